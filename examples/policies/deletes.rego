# No plug-in deleted unless someone said so: set APIGSYNC_POLICY_ALLOW_DELETES=true
# for the run (e.g. from a pull-request label, see deploy/ci/github-actions.yml).
# A replacement's delete of the old plug-in is part of the replacement and allowed.
#
# apigsync passes the variables named APIGSYNC_POLICY_* as data.apigsync.env.
package main

import rego.v1

deletes_allowed if data.apigsync.env.APIGSYNC_POLICY_ALLOW_DELETES == "true"

deny_delete contains msg if {
	not deletes_allowed
	some op in input.operations
	op.kind == "delete_plugin"
	not op.replace
	msg := sprintf("plug-in %s is deleted: set APIGSYNC_POLICY_ALLOW_DELETES=true to allow deletes", [op.name])
}
