package modelgate.license_test

import data.modelgate.fixtures as fx
import data.modelgate.license

test_allowed_license_any_case if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/governance/license", "value": "Apache-2.0"}])
	count(license.deny_not_allowed) == 0 with input as ctx.manifest with data.modelgate.context as ctx
}

test_license_not_on_allowlist if {
	ctx := fx.with_manifest([{"op": "replace", "path": "/spec/governance/license", "value": "WTFPL"}])
	result := license.deny_not_allowed with input as ctx.manifest with data.modelgate.context as ctx
		with data.modelgate.config.licenses.allowed as ["MIT", "apache-2.0"]
	result == {{"msg": "licence WTFPL is not on the allowlist: apache-2.0, mit", "path": "spec.governance.license"}}
}

share_alike_parent := fx.with_context([{"op": "replace", "path": "/graph/parent_manifests/fraud-detector@3.1.0/license", "value": "CC-BY-SA-4.0"}])

test_permissive_parent_allows_any_license if {
	count(license.deny_incompatible_parent) == 0 with input as fx.good.manifest with data.modelgate.context as fx.good
}

test_share_alike_parent_binds_the_child if {
	result := license.deny_incompatible_parent with input as share_alike_parent.manifest with data.modelgate.context as share_alike_parent
	result == {{
		"msg": "licence apache-2.0 is incompatible with parent fraud-detector@3.1.0 (licence cc-by-sa-4.0): a derivative may use cc-by-sa-4.0",
		"path": "spec.governance.license",
	}}
}

test_share_alike_child_of_share_alike_parent if {
	inp := json.patch(share_alike_parent, [{"op": "replace", "path": "/manifest/spec/governance/license", "value": "cc-by-sa-4.0"}])
	count(license.deny_incompatible_parent) == 0 with input as inp.manifest with data.modelgate.context as inp
}

test_parent_license_unknown_or_missing if {
	ctx := fx.with_context([{"op": "replace", "path": "/graph/parent_manifests/fraud-detector@3.1.0/license", "value": "foo-1.0"}])
	unknown := license.warn_parent_license_unknown with input as ctx.manifest with data.modelgate.context as ctx
	fx.messages(unknown) == {"parent fraud-detector@3.1.0 has licence foo-1.0, which data.modelgate.config.licenses.derivatives does not list: compatibility cannot be checked"}
	ctx2 := fx.with_context([{"op": "remove", "path": "/graph/parent_manifests/fraud-detector@3.1.0/license"}])
	missing := license.warn_parent_license_unknown with input as ctx2.manifest with data.modelgate.context as ctx2
	fx.messages(missing) == {"parent fraud-detector@3.1.0 declares no licence: compatibility cannot be checked"}
	ctx3 := fx.with_context([{"op": "remove", "path": "/graph/parent_manifests/fraud-detector@3.1.0/license"}])
	count(license.deny_incompatible_parent) == 0 with input as ctx3.manifest with data.modelgate.context as ctx3
	ctx4 := fx.with_context([{"op": "replace", "path": "/graph/parent_manifests/fraud-detector@3.1.0/license", "value": ""}])
	blank := license.warn_parent_license_unknown with input as ctx4.manifest with data.modelgate.context as ctx4
	count(blank) == 1
}
