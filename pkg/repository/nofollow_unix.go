//go:build unix

package repository

import (
	"os"
	"syscall"
)

// openFlags open without blocking, so that a named pipe where a manifest
// should be cannot hang the run (the caller then refuses it as not a
// regular file).
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// openNoFollow opens a file unless it is a symbolic link: one system call
// where a check and an open would take two.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, openFlags|syscall.O_NOFOLLOW, 0)
}
