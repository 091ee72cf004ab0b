// Package githubapp is the bot's GitHub plumbing: webhook signatures and
// intake, event dispatch from the durable queue, installation clients, and
// the retry, rate-limit and call-counting HTTP middleware.
package githubapp
