package promtest

import "syscall"

// sysProcAttr makes Prometheus die with the test binary, should it crash.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
