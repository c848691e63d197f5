// Package jsonschema describes the spec language as a JSON Schema (draft
// 2020-12) for editors: the YAML language server completes and checks a
// spec that names it. The schema is generated from the decoder's own types
// (specs.FieldsOf), so it cannot drift from what `fuelplan validate`
// reads; what only validation knows (CIDR overlaps, references between
// resources) stays out of it.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/fuelplan/fuelplan/specs"
)

// envRef matches a value taken from the environment: the decoder reads
// `${env:NAME}` in any scalar, integers and booleans included.
const envRef = `\$\{env:[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`

var (
	stringType = reflect.TypeOf(specs.String{})
	intType    = reflect.TypeOf(specs.Int{})
	boolType   = reflect.TypeOf(specs.Bool{})
	floatingIP = reflect.TypeOf(specs.FloatingIPSpec{})
	userData   = reflect.TypeOf(specs.UserDataSpec{})
)

// Schema is a JSON Schema object; map keys marshal sorted, so the output
// is deterministic.
type Schema = map[string]any

// Generate returns the spec's JSON Schema, indented.
func Generate() ([]byte, error) {
	g := &generator{defs: map[string]Schema{}}
	root := g.object(reflect.TypeOf(specs.Document{}))
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "fuelplan lab spec (" + specs.APIVersion + ")"
	root["description"] = "A nested OpenStack lab for fuelplan; reference: docs/spec.md"
	root["$defs"] = g.defs
	props := root["properties"].(Schema)
	props["apiVersion"] = Schema{"const": specs.APIVersion}
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	return append(out, '\n'), nil
}

type generator struct {
	defs map[string]Schema
}

// of describes a value of type t.
func (g *generator) of(t reflect.Type) Schema {
	switch t {
	case stringType:
		// Any scalar reads as a string (`name: 123` is the name "123").
		return g.scalar("string", Schema{"type": []string{"string", "number", "boolean"}})
	case intType:
		return g.scalar("integer", Schema{"anyOf": []Schema{{"type": "integer"}, fromEnv}})
	case boolType:
		return g.scalar("boolean", Schema{"anyOf": []Schema{{"type": "boolean"}, fromEnv}})
	case floatingIP:
		// floating_ip: true | false | 172.16.1.100 | {network, address}
		return Schema{"anyOf": []Schema{{"type": "boolean"}, {"type": "string"}, g.ref(t)}}
	case userData:
		// user_data: "#cloud-config ..." | {content, sensitive}
		return Schema{"anyOf": []Schema{{"type": "string"}, g.ref(t)}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Slice:
		return Schema{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		return g.ref(t)
	}
	panic(fmt.Sprintf("jsonschema: no schema for %s", t))
}

// fromEnv is a whole value from the environment, for integers and booleans.
var fromEnv = Schema{"type": "string", "pattern": "^" + envRef + "$"}

// scalar defines a scalar type once and refers to it.
func (g *generator) scalar(name string, s Schema) Schema {
	g.defs[name] = s
	return Schema{"$ref": "#/$defs/" + name}
}

// ref describes a struct by reference to its definition, generated once.
func (g *generator) ref(t reflect.Type) Schema {
	name := t.Name()
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = nil // a placeholder stops recursion (SSHHostSpec.Jump)
		g.defs[name] = g.object(t)
	}
	return Schema{"$ref": "#/$defs/" + name}
}

func (g *generator) object(t reflect.Type) Schema {
	props := Schema{}
	var required []string
	for _, f := range specs.FieldsOf(t) {
		props[f.Key] = g.of(f.Type)
		if c := specs.Choices(t, f.Key); c != nil {
			props[f.Key] = Schema{"enum": c}
		}
		if f.Required {
			required = append(required, f.Key)
		}
	}
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if byType := specs.RequiredByType(t); byType != nil {
		types := make([]string, 0, len(byType))
		for ty := range byType {
			types = append(types, ty)
		}
		slices.Sort(types)
		var conds []Schema
		for _, ty := range types {
			conds = append(conds, Schema{
				"if":   Schema{"properties": Schema{"type": Schema{"const": ty}}, "required": []string{"type"}},
				"then": Schema{"required": byType[ty]},
			})
		}
		s["allOf"] = conds
	}
	return s
}
