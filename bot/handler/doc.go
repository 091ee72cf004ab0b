// Package handler turns webhook events into calls of the bot's services,
// one file per event, and adapts go-github to the interfaces they consume.
package handler
