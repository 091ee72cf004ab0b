// Package fakegithub is a fake GitHub REST API for tests, checked against
// GitHub's OpenAPI description.
//
// # Using it
//
// New starts a server for one test (or for a program such as bot testdrive,
// through the small T interface). Point the code under test at URL (it
// serves under /api/v3/, like GitHub Enterprise Server, so the same value
// works as MODELGATE_GITHUB_URL, as go-github's BaseURL and with
// WithEnterpriseURLs). Set up the state the scenario needs, run it, then
// assert on Requests, Comments, Reactions, Deployments and
// DeploymentStatuses:
//
//	gh := fakegithub.New(t)
//	gh.SetPermission("octo/models", "alice", "write")
//	pr := gh.AddPullRequest("octo/models", fakegithub.PullRequest{Number: 7, Author: "alice"})
//	gh.SetFile("octo/models", pr.HeadSHA, "models/fraud/model.yaml", manifest)
//	client := github.NewClient(nil).WithAuthToken(gh.InstallationToken())
//	client.BaseURL, _ = url.Parse(gh.URL())
//
// Every request is validated with kin-openapi against
// testdata/github/openapi.json (method, path, path and query parameters,
// Content-Type, JSON body) and must carry a User-Agent and a known
// X-GitHub-Api-Version if any. The description is the authority: where
// github.com is more lenient (a JSON body sent without Content-Type), the
// fake is not. One exception: a body of JSON null counts as no body, which
// ghinstallation sends and GitHub accepts. A request GitHub would refuse is answered as GitHub would (404 for an
// unknown route, 422 for an invalid request, with GitHub's JSON error body)
// and recorded as a violation; at cleanup each violation fails the test with
// t.Errorf, so a scenario cannot forget to check. Violations lists them
// earlier.
//
// Authentication: the fake knows one App (AppID, AppSlug) with one
// installation (InstallationID, covering every repository). The App's JWT
// (needed for the access_tokens and repository-installation endpoints) is
// checked for its claims, and for its RS256 signature once the test has taken
// AppPrivateKeyPEM to give to ghinstallation. Every other call needs an
// installation token, from POST /app/installations/1/access_tokens or from
// InstallationToken; a missing, unknown or expired token (see ExpireTokens)
// gets GitHub's 401, which is not a violation. A bot under test is configured
// with AppID as MODELGATE_APP_ID and AppPrivateKeyPEM as MODELGATE_PRIVATE_KEY.
// What the App writes (comments, reactions, deployments, statuses) is by
// BotLogin, "modelgate[bot]".
//
// Faults: FailNext makes the next n requests matching a method and a path
// pattern answer 500, 502, 404, or 403 with primary (x-ratelimit-remaining: 0,
// x-ratelimit-reset 2 s ahead) or secondary (retry-after: 1) rate-limit
// headers; the waits are GitHub's form with test-sized values. LostAnswer
// carries a write out and answers 502, as a front end that timed out on a
// write that landed. For soaks, SetChaos fails a share of all requests
// with faults drawn from a seeded generator, SetDown answers 503 to
// everything until GitHub is up again, and Injected counts what was
// answered so, by fault. Every other
// answer carries x-ratelimit-* headers whose remaining count goes down from
// 5000 but never reaches 0.
//
// Deployments: POST .../deployments without required_contexts answers 409
// when a commit status of the ref is not success, as GitHub does; the payload
// is kept as the JSON sent. Auto-merge is not simulated.
//
// Webhooks: LoadWebhook reads GitHub's own payload examples from
// testdata/webhooks (from @octokit/webhooks-examples, version in
// testdata/webhooks/VERSION); change them with plain map edits or SetPath,
// and deliver them with SignedRequest, which sets X-Hub-Signature-256,
// X-GitHub-Event and X-GitHub-Delivery as GitHub does. The examples are
// GitHub's as they are: their repository is Codertocat/Hello-World, the
// issue_comment examples comment on an issue (no issue.pull_request), the
// edited and deleted ones carry no installation, and installation.created
// names installation 957387 rather than InstallationID. CommentEvent,
// PullRequestEvent, DeploymentEvent and DeploymentStatusEvent build the
// payload for something the fake holds, so that the delivery and the API
// agree:
//
//	c := gh.AddComment("octo/models", 7, "alice", "/canary")
//	req := fakegithub.SignedRequest(t, bot.URL+"/webhook", secret, "issue_comment", "d1",
//		gh.CommentEvent(t, "octo/models", c.ID, "created"))
//
// # Regenerating the OpenAPI subset and the webhook examples
//
// Both come from npm packages pinned in tools/openapi-subset/package.json
// (@octokit/openapi, @octokit/webhooks-examples). To add an operation, add
// its "METHOD /path" line (as spelled in GitHub's description) to
// tools/openapi-subset/operations.txt, regenerate, add a handler to the
// handlers map in handlers.go, and commit testdata/github/openapi.json:
//
//	cd tools/openapi-subset && npm ci && npm run subset
//
// The subset keeps the listed operations and every component they reference;
// info.x-source records the package version. Webhook examples are listed in
// tools/openapi-subset/webhooks.txt and written by `npm run webhooks`.
package fakegithub
