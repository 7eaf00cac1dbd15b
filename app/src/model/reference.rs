//! The API reference page's view of the OpenAPI document (`/api-reference`): operations grouped
//! by tag, with their parameters, bodies and answers, and the schemas they name — read from the
//! same document `/api/v1/openapi.json` serves.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiReferenceView {
    pub title: String,
    pub version: String,
    pub description: String,
    pub groups: Vec<ApiGroupView>,
    pub schemas: Vec<ApiSchemaView>,
}

impl ApiReferenceView {
    pub fn operation_count(&self) -> usize {
        self.groups.iter().map(|g| g.operations.len()).sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGroupView {
    pub tag: String,
    pub description: String,
    pub operations: Vec<ApiOperationView>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOperationView {
    /// `GET`, `POST`, …
    pub method: String,
    pub path: String,
    pub id: String,
    pub summary: String,
    /// Signed in (a session or a token) or open to anyone.
    pub public: bool,
    pub parameters: Vec<ApiFieldView>,
    /// The body's media types and type, e.g. `application/json: RunSpec`.
    pub body: Vec<String>,
    pub responses: Vec<ApiResponseView>,
}

/// A parameter (where = path/query) or a schema's property (where empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFieldView {
    pub name: String,
    pub place: String,
    pub ty: String,
    pub required: bool,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiResponseView {
    pub status: String,
    pub description: String,
    /// The answer's media types and type, e.g. `application/json: [ContainerSummary]`.
    pub body: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSchemaView {
    pub name: String,
    pub description: String,
    /// `object`, `one of …`, `string: a | b`.
    pub kind: String,
    pub fields: Vec<ApiFieldView>,
}

/// Reading the document (server side: the page's server fn).
#[cfg(feature = "ssr")]
pub mod read {
    use serde_json::Value;

    use super::*;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    pub fn reference(doc: &Value) -> ApiReferenceView {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut groups: Vec<ApiGroupView> = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| ApiGroupView {
                tag: text(&t["name"]),
                description: text(&t["description"]),
                operations: Vec::new(),
            })
            .collect();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
                let index = match groups.iter().position(|g| g.tag == tag) {
                    Some(i) => i,
                    None => {
                        groups.push(ApiGroupView {
                            tag: tag.clone(),
                            ..Default::default()
                        });
                        groups.len() - 1
                    }
                };
                groups[index].operations.push(operation(path, method, op));
            }
        }
        groups.retain(|g| !g.operations.is_empty());
        let schemas = doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, s)| schema(name, s))
            .collect();
        ApiReferenceView {
            title: text(&doc["info"]["title"]),
            version: text(&doc["info"]["version"]),
            description: text(&doc["info"]["description"]),
            groups,
            schemas,
        }
    }

    fn operation(path: &str, method: &str, op: &Value) -> ApiOperationView {
        let parameters = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| ApiFieldView {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                place: p["in"].as_str().unwrap_or_default().to_string(),
                ty: type_name(&p["schema"]),
                required: p["required"].as_bool().unwrap_or(false),
                description: p["description"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let mut responses: Vec<ApiResponseView> = op["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(status, r)| ApiResponseView {
                status: status.clone(),
                description: r["description"].as_str().unwrap_or_default().to_string(),
                body: contents(&r["content"]),
            })
            .collect();
        responses.sort_by(|a, b| a.status.cmp(&b.status));
        ApiOperationView {
            method: method.to_uppercase(),
            path: path.to_string(),
            id: op["operationId"].as_str().unwrap_or_default().to_string(),
            summary: op["summary"].as_str().unwrap_or_default().to_string(),
            public: op["security"] == serde_json::json!([{}]),
            parameters,
            body: contents(&op["requestBody"]["content"]),
            responses,
        }
    }

    fn contents(content: &Value) -> Vec<String> {
        content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, c)| match c.get("schema") {
                Some(s) if s != &serde_json::json!({}) => format!("{media}: {}", type_name(s)),
                _ => media.clone(),
            })
            .collect()
    }

    fn schema(name: &str, s: &Value) -> ApiSchemaView {
        let required: Vec<&str> = s["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let fields = s["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(field, p)| ApiFieldView {
                name: field.clone(),
                place: String::new(),
                ty: type_name(p),
                required: required.contains(&field.as_str()),
                description: p["description"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let kind = if s.get("properties").is_some() {
            "object".to_string()
        } else {
            type_name(s)
        };
        ApiSchemaView {
            name: name.to_string(),
            description: s["description"].as_str().unwrap_or_default().to_string(),
            kind,
            fields,
        }
    }

    /// A schema in a few words: `RunSpec`, `[ImageView]`, `string?`, `integer`, `map of string`,
    /// `"a" | "b"`.
    pub fn type_name(s: &Value) -> String {
        if let Some(r) = s["$ref"].as_str() {
            return r.rsplit('/').next().unwrap_or(r).to_string();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = s[key].as_array() {
                let names: Vec<String> = options.iter().map(type_name).collect();
                return names.join(" | ");
            }
        }
        if let Some(values) = s["enum"].as_array() {
            let names: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            return names.join(" | ");
        }
        let (ty, nullable) = match &s["type"] {
            Value::String(t) => (t.clone(), false),
            Value::Array(ts) => {
                let named: Vec<&str> = ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect();
                (named.join(" | "), named.len() < ts.len())
            }
            _ => (String::new(), false),
        };
        let base = match ty.as_str() {
            "array" => format!("[{}]", type_name(&s["items"])),
            "object" if s.get("additionalProperties").is_some_and(Value::is_object) => {
                format!("map of {}", type_name(&s["additionalProperties"]))
            }
            "string" if s["format"] == "binary" => "file".to_string(),
            "" => "any".to_string(),
            other => other.to_string(),
        };
        if nullable {
            format!("{base}?")
        } else {
            base
        }
    }

    #[cfg(test)]
    mod tests {
        use serde_json::json;

        use super::*;

        #[test]
        fn types_read_in_a_few_words() {
            assert_eq!(
                type_name(&json!({"$ref": "#/components/schemas/RunSpec"})),
                "RunSpec"
            );
            assert_eq!(
                type_name(
                    &json!({"type": "array", "items": {"$ref": "#/components/schemas/ImageView"}})
                ),
                "[ImageView]"
            );
            assert_eq!(type_name(&json!({"type": ["string", "null"]})), "string?");
            assert_eq!(
                type_name(&json!({"type": "string", "format": "binary"})),
                "file"
            );
            assert_eq!(
                type_name(&json!({"type": "object", "additionalProperties": {"type": "string"}})),
                "map of string"
            );
            assert_eq!(type_name(&json!({"enum": ["a", "b"]})), "\"a\" | \"b\"");
            assert_eq!(type_name(&json!({})), "any");
        }

        #[test]
        fn operations_are_grouped_by_their_tag_in_the_document_order() {
            let doc = json!({
                "info": {"title": "Capstan API", "version": "1", "description": "d"},
                "tags": [{"name": "hosts", "description": "Engines"}, {"name": "unused"}],
                "paths": {
                    "/api/v1/hosts": {"get": {"tags": ["hosts"], "summary": "List", "operationId": "hosts.list",
                        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/HostView"}}}}},
                                      "401": {"description": "not signed in"}}}},
                    "/healthz": {"get": {"tags": ["system"], "summary": "Up", "security": [{}], "responses": {"200": {"description": "ok"}}}}
                },
                "components": {"schemas": {"HostView": {"type": "object", "required": ["slug"], "properties": {"slug": {"type": "string"}, "name": {"type": ["string", "null"]}}}}}
            });
            let r = reference(&doc);
            assert_eq!(
                r.groups.iter().map(|g| g.tag.as_str()).collect::<Vec<_>>(),
                ["hosts", "system"]
            );
            let list = &r.groups[0].operations[0];
            assert_eq!(
                (list.method.as_str(), list.path.as_str(), list.public),
                ("GET", "/api/v1/hosts", false)
            );
            assert_eq!(list.responses[0].body, ["application/json: [HostView]"]);
            assert!(r.groups[1].operations[0].public);
            assert_eq!(r.schemas[0].fields.len(), 2);
            let field = |name: &str| r.schemas[0].fields.iter().find(|f| f.name == name).cloned();
            assert!(field("slug").is_some_and(|f| f.required));
            assert!(field("name").is_some_and(|f| !f.required));
            assert_eq!(r.operation_count(), 2);
        }
    }
}
