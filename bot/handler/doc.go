// Package handler turns webhook events into calls of the bot's services,
// one file per event; the GitHub calls those services make go through pkg/gh.
package handler
