package scim

import (
	"strings"

	"roster.dev/roster/internal/account"
)

// maxPatchOps bounds the operations of one PATCH request.
const maxPatchOps = 100

// patchOp is one operation of a PatchOp message.
type patchOp struct {
	op    string // add, replace or remove (any case in the request)
	path  string
	value any
	has   bool // value was given
}

// patchOps reads the Operations of a PatchOp body.
func patchOps(body map[string]any) ([]patchOp, error) {
	raw, _ := field(body, "Operations")
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, invalidSyntax("a PatchOp needs Operations")
	}
	if len(list) > maxPatchOps {
		return nil, invalidValue("at most 100 operations")
	}
	ops := make([]patchOp, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, invalidSyntax("each operation is an object")
		}
		op := patchOp{op: strings.ToLower(str(m, "op")), path: strings.TrimSpace(str(m, "path"))}
		op.value, op.has = field(m, "value")
		switch op.op {
		case "add", "replace":
			if !op.has {
				return nil, invalidValue(op.op + " needs a value")
			}
		case "remove":
			if op.path == "" {
				return nil, &Error{Status: 400, Type: "noTarget", Detail: "remove needs a path"}
			}
		default:
			return nil, invalidValue("op must be add, replace or remove")
		}
		ops[i] = op
	}
	return ops, nil
}

// readOnly are the attributes a PATCH may not change.
var readOnly = map[string]bool{"id": true, "meta": true, "schemas": true, "groups": true}

// applyPatch applies ops to a rendered resource r (RFC 7644 §3.5.2), which is then
// read back as the resource's new state.
func applyPatch(r map[string]any, ops []patchOp) error {
	for _, op := range ops {
		if op.path == "" {
			vals, ok := op.value.(map[string]any)
			if !ok {
				return invalidValue(op.op + " without a path needs an object value")
			}
			for k, v := range vals {
				if err := applyPath(r, op.op, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyPath(r, op.op, op.path, op.value); err != nil {
			return err
		}
	}
	return nil
}

// applyPath applies one operation at path: attr, attr.sub, attr[filter],
// attr[filter].sub, or an extension's URN with its attribute.
func applyPath(r map[string]any, op, path string, value any) error {
	attr, filter, sub, err := splitPath(path)
	if err != nil {
		return err
	}
	if readOnly[strings.ToLower(attr)] {
		return &Error{Status: 400, Type: "mutability", Detail: attr + " cannot be changed"}
	}
	if attr == enterpriseURN && sub == "" {
		// The whole extension: merge its attributes.
		vals, ok := value.(map[string]any)
		if op == "remove" {
			deleteField(r, attr)
			return nil
		}
		if !ok {
			return invalidValue(enterpriseURN + " takes an object")
		}
		ent := obj(r, attr)
		if ent == nil {
			ent = map[string]any{}
			r[attr] = ent
		}
		for k, v := range vals {
			setField(ent, k, v)
		}
		return nil
	}
	cur, _ := field(r, attr)
	if filter == nil {
		if sub == "" {
			switch op {
			case "remove":
				deleteField(r, attr)
			case "add":
				list, isList := cur.([]any)
				if add, ok := asList(value); isList && ok {
					setField(r, attr, append(list, add...))
				} else if curObj, isObj := cur.(map[string]any); isObj {
					if vals, ok := value.(map[string]any); ok {
						for k, v := range vals {
							setField(curObj, k, v)
						}
					} else {
						setField(r, attr, value)
					}
				} else {
					setField(r, attr, value)
				}
			default:
				setField(r, attr, value)
			}
			return nil
		}
		o, _ := cur.(map[string]any)
		if o == nil {
			if op == "remove" {
				return nil
			}
			o = map[string]any{}
			setField(r, attr, o)
		}
		if op == "remove" {
			deleteField(o, sub)
		} else {
			setField(o, sub, value)
		}
		return nil
	}
	// A value filter selects values of a multi-valued attribute.
	list, _ := cur.([]any)
	var kept []any
	matched := false
	for _, x := range list {
		e, ok := x.(map[string]any)
		if !ok || !matches(filter, e) {
			kept = append(kept, x)
			continue
		}
		matched = true
		switch {
		case op == "remove" && sub == "":
			continue // the value goes
		case op == "remove":
			deleteField(e, sub)
		case sub != "":
			setField(e, sub, value)
		default:
			if vals, ok := value.(map[string]any); ok {
				for k, v := range vals {
					setField(e, k, v)
				}
			}
		}
		kept = append(kept, e)
	}
	if !matched && op != "remove" {
		// Nothing matched: a value described by an eq filter is added (what Entra ID
		// expects of emails[type eq "work"].value).
		if filter.Op != "eq" {
			return &Error{Status: 400, Type: "noTarget", Detail: "no value matches " + path}
		}
		e := map[string]any{filter.Attr: filter.Text}
		if sub != "" {
			e[sub] = value
		} else if vals, ok := value.(map[string]any); ok {
			for k, v := range vals {
				e[k] = v
			}
		}
		kept = append(kept, e)
	}
	if kept == nil {
		kept = []any{}
	}
	setField(r, attr, kept)
	return nil
}

func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any, string:
		return []any{x}, true
	}
	return nil, false
}

// splitPath parses a PATCH path.
func splitPath(path string) (attr string, filter *account.SCIMFilter, sub string, err error) {
	lower := strings.ToLower(path)
	for _, urn := range []string{userSchema, groupSchema} {
		if strings.HasPrefix(lower, strings.ToLower(urn)+":") {
			path = path[len(urn)+1:]
			lower = lower[len(urn)+1:]
		}
	}
	if strings.HasPrefix(lower, strings.ToLower(enterpriseURN)) {
		rest := strings.TrimPrefix(path[len(enterpriseURN):], ":")
		top, sub, _ := strings.Cut(rest, ".")
		if top == "" {
			return enterpriseURN, nil, "", nil
		}
		// The extension's attributes live in the extension's object.
		if sub != "" {
			return "", nil, "", invalidPath(path)
		}
		return enterpriseURN, nil, top, nil
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		j := strings.LastIndexByte(path, ']')
		if j < i {
			return "", nil, "", invalidPath(path)
		}
		f, ferr := parseFilter(path[i+1:j], anyText)
		if ferr != nil {
			return "", nil, "", invalidPath(path)
		}
		rest := path[j+1:]
		if rest != "" {
			if rest[0] != '.' || len(rest) == 1 {
				return "", nil, "", invalidPath(path)
			}
			sub = rest[1:]
		}
		return path[:i], f, sub, nil
	}
	attr, sub, _ = strings.Cut(path, ".")
	if attr == "" || strings.ContainsAny(path, " \"") {
		return "", nil, "", invalidPath(path)
	}
	return attr, nil, sub, nil
}

func invalidPath(path string) error {
	return &Error{Status: 400, Type: "invalidPath", Detail: "cannot read the path " + path}
}
