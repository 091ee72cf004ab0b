package fakegithub

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object of a response.
type obj = map[string]any

const webURL = "https://github.com"

func itoa(n int) string { return strconv.Itoa(n) }

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// nodeID makes a GraphQL node id like GitHub's.
func nodeID(kind string, id int64) string {
	return base64.RawStdEncoding.EncodeToString([]byte(fmt.Sprintf("0%s%d", kind, id)))
}

// userID gives a login a stable id.
func userID(login string) int64 {
	h := fnv.New32a()
	h.Write([]byte(login))
	return int64(h.Sum32()%1_000_000) + 1
}

// api is the API root URL, without a trailing slash.
func (s *Server) api() string { return s.http.URL + BasePath }

// user renders a simple-user.
func (s *Server) user(login string) obj {
	id := userID(login)
	kind := "User"
	if strings.HasSuffix(login, "[bot]") {
		kind = "Bot"
	}
	u := s.api() + "/users/" + login
	return obj{
		"login": login, "id": id, "node_id": nodeID("User", id), "type": kind, "site_admin": false,
		"avatar_url":          "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(id, 10) + "?v=4",
		"gravatar_id":         "",
		"url":                 u,
		"html_url":            webURL + "/" + login,
		"followers_url":       u + "/followers",
		"following_url":       u + "/following{/other_user}",
		"gists_url":           u + "/gists{/gist_id}",
		"starred_url":         u + "/starred{/owner}{/repo}",
		"subscriptions_url":   u + "/subscriptions",
		"organizations_url":   u + "/orgs",
		"repos_url":           u + "/repos",
		"events_url":          u + "/events{/privacy}",
		"received_events_url": u + "/received_events",
	}
}

// repoURL is a repository's API URL.
func (s *Server) repoURL(r *repoState) string { return s.api() + "/repos/" + r.FullName }

// repository renders a full-repository (also valid as minimal-repository).
func (s *Server) repository(r *repoState) obj {
	owner, name, _ := strings.Cut(r.FullName, "/")
	u := s.repoURL(r)
	created := stamp(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	o := obj{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": name, "full_name": r.FullName,
		"owner": s.user(owner), "private": r.Private, "fork": false, "description": nil,
		"html_url": webURL + "/" + r.FullName, "url": u,
		"default_branch": r.DefaultBranch, "visibility": map[bool]string{true: "private", false: "public"}[r.Private],
		"clone_url": webURL + "/" + r.FullName + ".git", "git_url": "git://github.com/" + r.FullName + ".git",
		"ssh_url": "git@github.com:" + r.FullName + ".git", "svn_url": webURL + "/" + r.FullName,
		"homepage": nil, "language": nil, "mirror_url": nil, "license": nil,
		"forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 0,
		"stargazers_count": 0, "watchers": 0, "watchers_count": 0, "network_count": 0, "subscribers_count": 0,
		"has_issues": true, "has_downloads": true, "has_projects": true, "has_wiki": true, "has_pages": false, "has_discussions": false,
		"archived": false, "disabled": false,
		"pushed_at": created, "created_at": created, "updated_at": created,
	}
	for k, v := range map[string]string{
		"archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}", "blobs_url": "/git/blobs{/sha}",
		"branches_url": "/branches{/branch}", "collaborators_url": "/collaborators{/collaborator}",
		"comments_url": "/comments{/number}", "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
		"contents_url": "/contents/{+path}", "contributors_url": "/contributors", "deployments_url": "/deployments",
		"downloads_url": "/downloads", "events_url": "/events", "forks_url": "/forks",
		"git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}",
		"hooks_url": "/hooks", "issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
		"issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
		"languages_url": "/languages", "merges_url": "/merges", "milestones_url": "/milestones{/number}",
		"notifications_url": "/notifications{?since,all,participating}", "pulls_url": "/pulls{/number}",
		"releases_url": "/releases{/id}", "stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
		"subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
		"teams_url": "/teams", "trees_url": "/git/trees{/sha}",
	} {
		o[k] = u + v
	}
	return o
}

// labels renders label names as label objects.
func (s *Server) labels(r *repoState, names []string) []obj {
	out := []obj{}
	for _, n := range names {
		id := int64(userID("label:" + n))
		out = append(out, obj{
			"id": id, "node_id": nodeID("Label", id), "name": n, "color": "ededed", "default": false,
			"description": nil, "url": s.repoURL(r) + "/labels/" + n,
		})
	}
	return out
}

// issueID gives an issue or pull request a stable id.
func issueID(r *repoState, number int) int64 { return r.id*100_000 + int64(number) }

// issue renders an issue, or the issue side of a pull request.
func (s *Server) issue(r *repoState, number int) obj {
	created := stamp(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	u := s.repoURL(r) + "/issues/" + itoa(number)
	o := obj{
		"id": issueID(r, number), "node_id": nodeID("Issue", issueID(r, number)), "number": number,
		"url": u, "repository_url": s.repoURL(r), "labels_url": u + "/labels{/name}",
		"comments_url": u + "/comments", "events_url": u + "/events",
		"html_url": webURL + "/" + r.FullName + "/issues/" + itoa(number),
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "locked": false, "closed_at": nil,
		"comments": r.commentCount(number), "created_at": created, "updated_at": created,
		"author_association": "CONTRIBUTOR",
	}
	if pr, ok := r.pulls[number]; ok {
		o["title"], o["body"], o["state"], o["user"] = pr.Title, pr.Body, pr.State, s.user(pr.Author)
		o["labels"], o["draft"] = s.labels(r, pr.Labels), pr.Draft
		o["html_url"] = webURL + "/" + r.FullName + "/pull/" + itoa(number)
		o["pull_request"] = obj{
			"url":       s.repoURL(r) + "/pulls/" + itoa(number),
			"html_url":  webURL + "/" + r.FullName + "/pull/" + itoa(number),
			"diff_url":  webURL + "/" + r.FullName + "/pull/" + itoa(number) + ".diff",
			"patch_url": webURL + "/" + r.FullName + "/pull/" + itoa(number) + ".patch",
			"merged_at": nil,
		}
		return o
	}
	is := r.issues[number]
	o["title"], o["body"], o["state"], o["user"] = is.Title, is.Body, is.State, s.user(is.Author)
	o["labels"] = s.labels(r, is.Labels)
	return o
}

// commentCount counts the comments of an issue.
func (r *repoState) commentCount(number int) int {
	n := 0
	for _, c := range r.comments {
		if c.Issue == number {
			n++
		}
	}
	return n
}

// branch renders the head or base of a pull request.
func (s *Server) branch(ref, sha, repoName string) obj {
	st := &repoState{Repo: Repo{FullName: repoName, DefaultBranch: "main"}, id: int64(userID("repo:" + repoName))}
	if known, ok := s.repos[repoName]; ok {
		st = known
	}
	owner, _, _ := strings.Cut(repoName, "/")
	return obj{"label": owner + ":" + ref, "ref": ref, "sha": sha, "user": s.user(owner), "repo": s.repository(st)}
}

// pull renders a pull request.
func (s *Server) pull(r *repoState, pr *PullRequest) obj {
	n := itoa(pr.Number)
	u := s.repoURL(r) + "/pulls/" + n
	html := webURL + "/" + r.FullName + "/pull/" + n
	created := stamp(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	id := issueID(r, pr.Number)
	var mergedAt any
	if pr.Merged {
		mergedAt = created
	}
	additions, deletions := 0, 0
	for _, f := range pr.Files {
		additions, deletions = additions+f.Additions, deletions+f.Deletions
	}
	return obj{
		"id": id, "node_id": nodeID("PullRequest", id), "number": pr.Number, "state": pr.State,
		"title": pr.Title, "body": pr.Body, "user": s.user(pr.Author), "draft": pr.Draft,
		"labels": s.labels(r, pr.Labels), "locked": false, "milestone": nil, "assignee": nil,
		"assignees": []obj{}, "requested_reviewers": []obj{}, "requested_teams": []obj{},
		"url": u, "html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
		"issue_url": s.repoURL(r) + "/issues/" + n, "commits_url": u + "/commits",
		"review_comments_url": u + "/comments", "review_comment_url": s.repoURL(r) + "/pulls/comments{/number}",
		"comments_url": s.repoURL(r) + "/issues/" + n + "/comments",
		"statuses_url": s.repoURL(r) + "/statuses/" + pr.HeadSHA,
		"head":         s.branch(pr.HeadRef, pr.HeadSHA, pr.HeadRepo), "base": s.branch(pr.BaseRef, pr.BaseSHA, r.FullName),
		"_links": obj{
			"self": link(u), "html": link(html), "issue": link(s.repoURL(r) + "/issues/" + n),
			"comments": link(s.repoURL(r) + "/issues/" + n + "/comments"), "review_comments": link(u + "/comments"),
			"review_comment": link(s.repoURL(r) + "/pulls/comments{/number}"), "commits": link(u + "/commits"),
			"statuses": link(s.repoURL(r) + "/statuses/" + pr.HeadSHA),
		},
		"author_association": "CONTRIBUTOR", "auto_merge": nil, "active_lock_reason": nil,
		"created_at": created, "updated_at": created, "closed_at": nil, "merged_at": mergedAt,
		"merge_commit_sha": nil, "merged": pr.Merged, "mergeable": true, "mergeable_state": "clean",
		"merged_by": nil, "maintainer_can_modify": false, "rebaseable": true,
		"comments": r.commentCount(pr.Number), "review_comments": 0, "commits": 1,
		"additions": additions, "deletions": deletions, "changed_files": len(pr.Files),
	}
}

func link(href string) obj { return obj{"href": href} }

// comment renders an issue comment.
func (s *Server) comment(r *repoState, c *Comment) obj {
	return obj{
		"id": c.ID, "node_id": nodeID("IssueComment", c.ID), "body": c.Body, "user": s.user(c.User),
		"url":                s.repoURL(r) + "/issues/comments/" + strconv.FormatInt(c.ID, 10),
		"html_url":           webURL + "/" + r.FullName + "/issues/" + itoa(c.Issue) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url":          s.repoURL(r) + "/issues/" + itoa(c.Issue),
		"author_association": "CONTRIBUTOR",
		"created_at":         stamp(c.CreatedAt), "updated_at": stamp(c.UpdatedAt),
	}
}

// reaction renders a reaction.
func (s *Server) reaction(rc Reaction) obj {
	return obj{
		"id": rc.ID, "node_id": nodeID("Reaction", rc.ID), "user": s.user(rc.User),
		"content": rc.Content, "created_at": stamp(rc.CreatedAt),
	}
}

// deploymentURL is a deployment's API URL.
func (s *Server) deploymentURL(r *repoState, id int64) string {
	return s.repoURL(r) + "/deployments/" + strconv.FormatInt(id, 10)
}

// deployment renders a deployment; its payload is kept as it was sent.
func (s *Server) deployment(r *repoState, d *Deployment) obj {
	u := s.deploymentURL(r, d.ID)
	return obj{
		"id": d.ID, "node_id": nodeID("Deployment", d.ID), "url": u, "statuses_url": u + "/statuses",
		"repository_url": s.repoURL(r), "sha": d.SHA, "ref": d.Ref, "task": d.Task,
		"payload": d.Payload, "original_environment": d.Environment, "environment": d.Environment,
		"description": nullable(d.Description), "creator": s.user(d.Creator),
		"created_at": stamp(d.CreatedAt), "updated_at": stamp(d.UpdatedAt),
		"transient_environment": d.TransientEnvironment, "production_environment": d.ProductionEnvironment,
		"performed_via_github_app": nil,
	}
}

// deploymentStatus renders a deployment status.
func (s *Server) deploymentStatus(r *repoState, st DeploymentStatus) obj {
	du := s.deploymentURL(r, st.DeploymentID)
	return obj{
		"id": st.ID, "node_id": nodeID("DeploymentStatus", st.ID), "state": st.State,
		"url": du + "/statuses/" + strconv.FormatInt(st.ID, 10), "deployment_url": du,
		"repository_url": s.repoURL(r), "creator": s.user(st.Creator), "description": st.Description,
		"environment": st.Environment, "target_url": st.LogURL, "log_url": st.LogURL,
		"environment_url": st.EnvironmentURL,
		"created_at":      stamp(st.CreatedAt), "updated_at": stamp(st.CreatedAt),
		"performed_via_github_app": nil,
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
