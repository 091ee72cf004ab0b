package fakegithub

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// webhookDir holds the webhook examples, relative to the module root.
const webhookDir = "testdata/webhooks"

// LoadWebhook reads a webhook payload example from testdata/webhooks; name is
// "<event>.<action>" (e.g. "issue_comment.created") or "<event>" for events
// without actions (e.g. "ping"). Each call returns a fresh copy to modify.
// Numbers are json.Number, so that ids survive re-encoding exactly.
func LoadWebhook(t T, name string) map[string]any {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("fakegithub: %v", err)
	}
	file := filepath.Join(root, webhookDir, strings.TrimSuffix(name, ".json")+".json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("fakegithub: load webhook %s: %v", name, err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep ids exact
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("fakegithub: decode webhook %s: %v", file, err)
	}
	return m
}

// SetPath sets the value at a dotted path in a payload, e.g.
// SetPath(m, "comment.body", "/canary"), making the objects on the way that
// are missing or null. A number in the path indexes an array. It panics when
// the path runs through a value that is not an object or array, or past the
// end of an array: a mistake in the test.
func SetPath(m map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	var cur any = m
	for i, k := range keys {
		last := i == len(keys)-1
		switch node := cur.(type) {
		case map[string]any:
			if last {
				node[k] = value
				return
			}
			next := node[k]
			if next == nil {
				next = map[string]any{}
				node[k] = next
			}
			cur = next
		case []any:
			idx, err := strconv.Atoi(k)
			if err != nil || idx < 0 || idx >= len(node) {
				panic("fakegithub: SetPath " + path + ": " + k + " is not an index of the array")
			}
			if last {
				node[idx] = value
				return
			}
			cur = node[idx]
		default:
			panic("fakegithub: SetPath " + path + ": " + strings.Join(keys[:i], ".") + " is not an object")
		}
	}
}

// SetRepository points a payload at repository fullName ("owner/name"):
// repository.full_name, repository.name and repository.owner.login.
func SetRepository(m map[string]any, fullName string) {
	owner, name, _ := strings.Cut(fullName, "/")
	SetPath(m, "repository.full_name", fullName)
	SetPath(m, "repository.name", name)
	SetPath(m, "repository.owner.login", owner)
}

// GetPath returns the value at a dotted path in a payload, or nil.
func GetPath(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		switch node := cur.(type) {
		case map[string]any:
			cur = node[k]
		case []any:
			idx, err := strconv.Atoi(k)
			if err != nil || idx < 0 || idx >= len(node) {
				return nil
			}
			cur = node[idx]
		default:
			return nil
		}
	}
	return cur
}

// Signature returns the X-Hub-Signature-256 value GitHub sends for body.
func Signature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest makes a webhook delivery as GitHub sends it: payload (a map,
// a struct, or already encoded []byte) as the JSON body, signed with secret.
func SignedRequest(t T, url, secret, event, deliveryID string, payload any) *http.Request {
	t.Helper()
	body, ok := payload.([]byte)
	if !ok {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			t.Fatalf("fakegithub: encode %s payload: %v", event, err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("fakegithub: webhook request: %v", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/fakegithub")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", deliveryID)
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(AppID, 10))
	h.Set("X-Hub-Signature-256", Signature(secret, body))
	return req
}
