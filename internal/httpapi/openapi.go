package httpapi

import (
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
