package specs

import "reflect"

// Field is one key of a schema struct as the decoder reads it, exported so
// that tools describing the spec language (the JSON Schema of `fuelplan
// schema`, `fuelplan fmt`'s key order) follow the decoder instead of a copy
// of its rules.
type Field struct {
	Key      string
	Required bool
	Type     reflect.Type
}

// FieldsOf lists the keys of schema struct t (Document, NetworkSpec...) in
// declaration order, embedded structs flattened as the decoder does.
func FieldsOf(t reflect.Type) []Field {
	si := infoOf(t)
	out := make([]Field, len(si.fields))
	for i, f := range si.fields {
		out[i] = Field{Key: f.key, Required: f.required, Type: t.FieldByIndex(f.index).Type}
	}
	return out
}

// choices are the closed fields: validation checks them against these same
// lists.
var choices = map[reflect.Type]map[string][]string{
	reflect.TypeOf(RuleSpec{}):    {"direction": directions, "ethertype": etherTypes, "protocol": protocols},
	reflect.TypeOf(PatchSpec{}):   {"type": patchTypes, "method": patchMethods},
	reflect.TypeOf(WaitSpec{}):    {"type": waitTypes},
	reflect.TypeOf(VolumeSpec{}):  {"device_type": deviceTypes, "disk_bus": diskBuses},
	reflect.TypeOf(Document{}):    {"vlan_mode": vlanModes},
	reflect.TypeOf(NetworkSpec{}): {"vlan_mode": vlanModes},
}

// Choices lists the values a closed field of schema struct t accepts, or
// nil for an open one.
func Choices(t reflect.Type, key string) []string { return choices[t][key] }

// RequiredByType lists, for a schema struct with a `type` key (patches,
// waits), the fields each type requires on top of the always-required
// ones. Validation reports the same with its own messages; a test holds
// the two together.
func RequiredByType(t reflect.Type) map[string][]string {
	switch t {
	case reflect.TypeOf(PatchSpec{}):
		return map[string][]string{"allow-dhcp-server": {"port"}, "command": {"apply", "hosts"}}
	case reflect.TypeOf(WaitSpec{}):
		return map[string][]string{"http": {"url"}, "fuel-nodes": {"url"}, "tcp": {"address"}, "console": {"marker"}}
	}
	return nil
}
