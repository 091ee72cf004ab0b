# METADATA
# title: Artifact
# description: The model artifact is addressed by a well-formed digest and a known URI scheme.
package modelgate.artifact

import data.modelgate.lib

# METADATA
# title: Artifact digest malformed
# description: |
#   spec.artifact.digest is "algorithm:hex", with an algorithm and a digest
#   length from data.modelgate.config.artifact.digest_algorithms
#   (sha256: 64 lowercase hex digits).
deny_digest contains {"msg": msg, "path": "spec.artifact.digest"} if {
	digest := input.manifest.spec.artifact.digest
	not lib.blank(digest)
	not well_formed(digest)
	msg := sprintf("artifact digest %v is not algorithm:hex with a known algorithm and length (%s)", [digest, concat(", ", [sprintf("%s: %d hex digits", [a, n]) | some a, n in lib.config.artifact.digest_algorithms])])
}

well_formed(digest) if {
	[algorithm, hex] := split(digest, ":")
	count(hex) == lib.config.artifact.digest_algorithms[algorithm]
	regex.match(`^[0-9a-f]+$`, hex)
}

# METADATA
# title: Artifact URI scheme unknown
# description: spec.artifact.uri uses a scheme of data.modelgate.config.artifact.uri_schemes.
warn_uri_scheme contains {"msg": msg, "path": "spec.artifact.uri"} if {
	uri := input.manifest.spec.artifact.uri
	is_string(uri)
	not known_scheme(uri)
	msg := sprintf("artifact uri %s does not use a known scheme (%s)", [uri, concat(", ", lib.config.artifact.uri_schemes)])
}

known_scheme(uri) if {
	some scheme in lib.config.artifact.uri_schemes
	startswith(uri, concat("", [scheme, "://"]))
}
