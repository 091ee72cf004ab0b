package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// setOutput appends name=value to the GITHUB_OUTPUT file in the multi-line
// form, with a random delimiter that the value is checked not to contain.
// (go-githubactions' SetOutput uses a fixed delimiter, so a value holding
// that delimiter followed by name=value could forge outputs.)
func setOutput(path, name, value string) error {
	if path == "" {
		return nil
	}
	if !outputName.MatchString(name) {
		return fmt.Errorf("set output: invalid name %q", name)
	}
	delim, err := delimiter()
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	if strings.Contains(value, delim) {
		return fmt.Errorf("set output %s: value contains the delimiter", name)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	_, err = fmt.Fprintf(f, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	return nil
}

func delimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}
