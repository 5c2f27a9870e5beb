package scim

// The discovery documents (RFC 7643 §5–7), honest about what Roster supports:
// PATCH, filtering (up to 1,000 results a page); no bulk operations, no sorting, no
// ETags, no password changes.

func serviceProviderConfig(base string) map[string]any {
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://roster.dev/docs/scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "SCIM token",
			"description": "The organization's SCIM token (POST /api/v1/organizations/{org}/scim-tokens) as a bearer token.",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

func resourceTypes(base string) []any {
	return []any{
		map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":      "User", "name": "User", "endpoint": "/Users", "description": "User Account",
			"schema":           userSchema,
			"schemaExtensions": []any{map[string]any{"schema": enterpriseURN, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":      "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
			"schema": groupSchema,
			"meta":   map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

// attr describes one attribute of a schema.
func attr(name, typ string, multi, required bool, mutability, uniqueness string, subs ...map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": multi, "required": required,
		"caseExact": false, "mutability": mutability, "returned": "default", "uniqueness": uniqueness}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

func schemas(base string) []any {
	rw := "readWrite"
	value := func(mutability string) []map[string]any {
		return []map[string]any{attr("value", "string", false, false, mutability, "none"),
			attr("display", "string", false, false, mutability, "none"),
			attr("type", "string", false, false, mutability, "none"),
			attr("primary", "boolean", false, false, mutability, "none")}
	}
	user := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      userSchema, "name": "User", "description": "User Account",
		"attributes": []any{
			attr("userName", "string", false, true, rw, "server"),
			attr("name", "complex", false, false, rw, "none",
				attr("formatted", "string", false, false, rw, "none"),
				attr("familyName", "string", false, false, rw, "none"),
				attr("givenName", "string", false, false, rw, "none")),
			attr("displayName", "string", false, false, rw, "none"),
			attr("active", "boolean", false, false, rw, "none"),
			attr("externalId", "string", false, false, rw, "none"),
			attr("emails", "complex", true, false, rw, "none", value(rw)...),
			attr("phoneNumbers", "complex", true, false, rw, "none", value(rw)...),
			attr("roles", "complex", true, false, rw, "none", value(rw)...),
			attr("addresses", "complex", true, false, rw, "none"),
			attr("title", "string", false, false, rw, "none"),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + userSchema},
	}
	enterprise := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      enterpriseURN, "name": "EnterpriseUser", "description": "Enterprise User",
		"attributes": []any{
			attr("employeeNumber", "string", false, false, rw, "none"),
			attr("department", "string", false, false, rw, "none"),
			attr("manager", "complex", false, false, rw, "none", attr("value", "string", false, false, rw, "none")),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + enterpriseURN},
	}
	group := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":      groupSchema, "name": "Group", "description": "Group",
		"attributes": []any{
			attr("displayName", "string", false, true, rw, "server"),
			attr("externalId", "string", false, false, rw, "none"),
			attr("members", "complex", true, false, rw, "none", value(rw)[:2]...),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + groupSchema},
	}
	return []any{user, enterprise, group}
}
