# A warning (not a denial) for every change applying would undo: someone
# changed the gateway outside apigsync since the last apply.
package main

import rego.v1

warn_drift contains msg if {
	some op in input.operations
	op.cause != "files"
	msg := sprintf("%s undoes a change made on the gateway since the last apply (%s)", [op.id, op.cause])
}
