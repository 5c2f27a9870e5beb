package httpapi

import (
	"encoding/json"
	"regexp"

	"github.com/danielgtaylor/huma/v2"
)

// optionalBodies makes the request body of every operation optional whose body
// schema requires no field: API.md's "a body that this contract does not require
// may be omitted (no body, or {})". huma marks every non-pointer body required, and
// answers an empty one 400 "request body is required" before the operation sees
// it; such an operation gets the zero value instead, as from {}. The pass runs once
// the routes are registered: huma's handlers read the operation the document holds,
// so the document and the server stay one.
func optionalBodies(api huma.API) {
	oapi := api.OpenAPI()
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil || op.RequestBody == nil || !op.RequestBody.Required {
				continue
			}
			mt := op.RequestBody.Content["application/json"]
			if mt == nil || mt.Schema == nil {
				continue
			}
			schema := mt.Schema
			if schema.Ref != "" {
				schema = oapi.Components.Schemas.SchemaFromRef(schema.Ref)
			}
			if schema != nil && schema.Type == huma.TypeObject && len(schema.Required) == 0 {
				op.RequestBody.Required = false
			}
		}
	}
}

var schemaRef = regexp.MustCompile(`"#/components/schemas/([^"]+)"`)

// unusedSchemas removes the component schemas nothing in the document refers to:
// huma registers the Go types it meets on the way, and an upload's huma.FormFile,
// which the multipart body inlines, would otherwise be in the document under its
// Go name. A schema only an unused one refers to goes in the next round.
func unusedSchemas(api huma.API) {
	oapi := api.OpenAPI()
	schemas := oapi.Components.Schemas.Map()
	for {
		b, err := json.Marshal(oapi)
		if err != nil {
			panic("httpapi: the OpenAPI document does not encode: " + err.Error())
		}
		used := map[string]bool{}
		for _, m := range schemaRef.FindAllSubmatch(b, -1) {
			used[string(m[1])] = true
		}
		removed := false
		for name := range schemas {
			if !used[name] {
				delete(schemas, name)
				removed = true
			}
		}
		if !removed {
			return
		}
	}
}
