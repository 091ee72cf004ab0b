# METADATA
# title: Artifact
# description: The model artifact is addressed by a well-formed digest and a known URI scheme.
package modelgate.artifact

import data.modelgate.config

# METADATA
# title: Artifact digest malformed
# description: |
#   spec.artifact.digest matches data.modelgate.config.artifact.digest_pattern:
#   sha256:<64 lowercase hex digits> or sha512:<128> by default.
deny_digest contains {"msg": msg, "path": "spec.artifact.digest"} if {
	digest := input.spec.artifact.digest
	digest != null
	digest != ""
	not regex.match(config.artifact.digest_pattern, digest)
	msg := sprintf("artifact digest %v does not match %s", [digest, config.artifact.digest_pattern])
}

# METADATA
# title: Artifact URI scheme unknown
# description: spec.artifact.uri uses a scheme of data.modelgate.config.artifact.uri_schemes.
warn_uri_scheme contains {"msg": msg, "path": "spec.artifact.uri"} if {
	uri := input.spec.artifact.uri
	is_string(uri)
	not substring(uri, 0, indexof(uri, "://")) in config.artifact.uri_schemes
	msg := sprintf("artifact uri %s does not use a known scheme (%s)", [uri, concat(", ", config.artifact.uri_schemes)])
}
