//go:build !unix

package repository

import (
	"errors"
	"os"
)

// openFlags open a file for reading.
const openFlags = os.O_RDONLY

// openNoFollow opens a file unless it is a symbolic link.
func openNoFollow(path string) (openedFile, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}
