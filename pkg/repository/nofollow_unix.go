//go:build unix

package repository

import (
	"io"
	"os"
	"syscall"
)

// openFlags open without blocking, so that a named pipe where a manifest
// should be cannot hang the run (the caller then refuses it as not a
// regular file).
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// openNoFollow opens a file unless it is a symbolic link: one system call
// where a check and an open would take two. The descriptor is used bare:
// an *os.File opened without blocking would first try to register it with
// the runtime's poller, one more system call per file that fails for
// every regular file.
func openNoFollow(path string) (openedFile, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &rawFile{fd: fd, name: path}, nil
	}
}

// rawFile is an openedFile behind a bare descriptor. Its errors read like
// those of an *os.File.
type rawFile struct {
	fd   int
	name string
}

func (f *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) stat() (int64, bool, error) {
	var st syscall.Stat_t
	for {
		err := syscall.Fstat(f.fd, &st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, false, &os.PathError{Op: "stat", Path: f.name, Err: err}
		}
		return st.Size, st.Mode&syscall.S_IFMT == syscall.S_IFREG, nil
	}
}

func (f *rawFile) Close() error {
	if err := syscall.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
