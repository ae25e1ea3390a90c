//! Templates in run config: `{partition_key}` and the like inside string values, filled
//! when a run is planned (partition values) or requested (a file sensor's `{file}`).
//! Only the names a caller fills are replaced; other braces are left as they are, so
//! JSON or format strings in config pass through.

use serde_json::Value as Json;

/// Replaces `{name}` by its value in every string of `json`, for each `(name, value)`.
pub fn render(json: &mut Json, vars: &[(&str, String)]) {
    match json {
        Json::String(text) if text.contains('{') => {
            for (name, value) in vars {
                let token = format!("{{{name}}}");
                if text.contains(&token) {
                    *text = text.replace(&token, value);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| render(item, vars)),
        Json::Object(map) => map.values_mut().for_each(|item| render(item, vars)),
        _ => {}
    }
}

/// Every `{<prefix>...}` token left in the strings of `json`, with the dotted key of the
/// string that holds it (under `at`).
pub fn unfilled(json: &Json, prefix: &str, at: &str, found: &mut Vec<(String, String)>) {
    match json {
        Json::String(text) => {
            let open = format!("{{{prefix}");
            let mut rest = text.as_str();
            while let Some(start) = rest.find(&open) {
                let tail = &rest[start..];
                let token = match tail.find('}') {
                    Some(end) => &tail[..=end],
                    None => tail,
                };
                found.push((at.to_owned(), token.to_owned()));
                rest = &tail[token.len()..];
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                unfilled(item, prefix, &format!("{at}[{i}]"), found);
            }
        }
        Json::Object(map) => {
            for (key, item) in map {
                let at = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                unfilled(item, prefix, &at, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_only_the_names_given() {
        let mut config = json!({"day": "{partition_key}", "sql": "select '{x}' from t_{partition_key}", "n": 3,
                                "list": ["{file}", {"deep": "{partition_key}/{file}"}]});
        render(&mut config, &[("partition_key", "2024-01-05".into())]);
        assert_eq!(
            config,
            json!({"day": "2024-01-05", "sql": "select '{x}' from t_2024-01-05", "n": 3,
                   "list": ["{file}", {"deep": "2024-01-05/{file}"}]})
        );
        render(&mut config, &[("file", "a.csv".into())]);
        assert_eq!(config["list"], json!(["a.csv", {"deep": "2024-01-05/a.csv"}]));
    }

    #[test]
    fn finds_what_is_left_with_its_key() {
        let config = json!({"a": {"b": "x {partition_day} y {partition_key}"}, "c": ["{partition_end"]});
        let mut found = Vec::new();
        unfilled(&config, "partition_", "solids.s.config", &mut found);
        assert_eq!(
            found,
            vec![
                ("solids.s.config.a.b".to_owned(), "{partition_day}".to_owned()),
                ("solids.s.config.a.b".to_owned(), "{partition_key}".to_owned()),
                ("solids.s.config.c[0]".to_owned(), "{partition_end".to_owned()),
            ]
        );
    }
}
