//go:build !unix

package repository

import (
	"errors"
	"os"
)

// openFlags open a file for reading.
const openFlags = os.O_RDONLY

// openNoFollow opens a file unless it is a symbolic link.
func openNoFollow(path string) (*os.File, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return os.Open(path)
}
