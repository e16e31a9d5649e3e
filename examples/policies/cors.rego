# No CORS plug-in that lets any web site call the APIs it is bound to:
# allow_origin "*" is refused; name the origins instead.
#
# Input: the plan's JSON document (docs/plan-format.md). A plug-in is written
# by create_plugin, update_plugin and rename_plugin operations (`spec`).
package main

import rego.v1

written contains spec if {
	some op in input.operations
	op.kind in {"create_plugin", "update_plugin", "rename_plugin"}
	spec := op.spec
}

deny_wildcard_origin contains msg if {
	some spec in written
	spec.plugin_type == "cors"
	spec.content.allow_origin == "*"
	msg := sprintf("plug-in %s: allow_origin \"*\" lets any web site call the APIs it is bound to; name the origins", [spec.name])
}
