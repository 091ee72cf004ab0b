package modelgate.artifact_test

import data.modelgate.artifact
import data.modelgate.fixtures as fx

digest(d) := fx.with_manifest([{"op": "replace", "path": "/spec/artifact/digest", "value": d}])

test_well_formed_digest if {
	count(artifact.deny_digest) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_malformed_digests if {
	every d in [
		"a1b2",
		"sha256:a1b2",
		"md5:0123456789abcdef0123456789abcdef",
		concat("", ["sha256:", upper(substring(fx.digest, 7, 64))]),
		concat("", ["sha256:", substring(fx.digest, 7, 63), "g"]),
		concat("", ["sha256:", substring(fx.digest, 7, 64), ":x"]),
		123,
	] {
		ctx := digest(d)
		result := artifact.deny_digest with input as ctx.manifest with data.modelgate.context as ctx
		fx.paths(result) == {"spec.artifact.digest"}
	}
}

test_digest_message if {
	ctx := digest("sha1:abc")
	result := artifact.deny_digest with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(result) == {"artifact digest sha1:abc does not match ^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$"}
}

test_missing_digest_left_to_required_fields if {
	ctx := digest("")
	count(artifact.deny_digest) == 0 with input as ctx.manifest with data.modelgate.context as ctx
}

test_uri_scheme if {
	count(artifact.warn_uri_scheme) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/artifact/uri", "value": "ftp://models/x.pt"}])
	result := artifact.warn_uri_scheme with input as ctx.manifest with data.modelgate.context as ctx
	fx.paths(result) == {"spec.artifact.uri"}
}

test_digest_of_the_wrong_type if {
	ctx := digest(42)
	fx.messages(artifact.deny_digest) == {"artifact digest 42 does not match ^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$"} with input as ctx.manifest with data.modelgate.context as ctx
	ctx2 := digest(null)
	count(artifact.deny_digest) == 0 with input as ctx2.manifest with data.modelgate.context as ctx2
	ctx3 := digest("")
	count(artifact.deny_digest) == 0 with input as ctx3.manifest with data.modelgate.context as ctx3
	ctx4 := digest({})
	count(artifact.deny_digest) == 1 with input as ctx4.manifest with data.modelgate.context as ctx4
}
