//! Plug-in create, update and delete on an instance (SPEC §3.3–§3.6, §4): the
//! checks the real service makes, in the order it makes them. No IO.

use serde::Deserialize;

use super::content;
use super::error::ServiceError;
use super::facts::facts;
use super::model::{PluginType, Scope};
use super::store::{Instance, PluginRec};

/// The body of create and update (`PluginCreate`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PluginBody {
    /// `plugin_name`.
    pub plugin_name: Option<String>,
    /// `plugin_type`.
    pub plugin_type: Option<String>,
    /// `plugin_scope`.
    pub plugin_scope: Option<String>,
    /// `plugin_content`: JSON text.
    pub plugin_content: Option<String>,
    /// `remark`.
    pub remark: Option<String>,
    /// `roma_app_id` (apic).
    pub roma_app_id: Option<String>,
}

/// A checked create/update body.
struct Checked {
    name: String,
    plugin_type: PluginType,
    scope: Scope,
    roma_app_id: Option<String>,
    remark: Option<String>,
    content: String,
}

/// Whether `name` follows the SPEC §4.1 rule: 3–255 characters, a letter (or CJK
/// ideograph) first, then letters, digits, `_`, `-` or CJK ideographs.
pub fn valid_name(name: &str) -> bool {
    let cjk = |c: char| ('\u{4e00}'..='\u{9fa5}').contains(&c);
    let count = name.chars().count();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || cjk(c));
    (3..=255).contains(&count)
        && first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || cjk(c))
}

fn required(value: Option<String>, param: &str) -> Result<String, ServiceError> {
    value.ok_or_else(|| ServiceError::missing(param))
}

fn check(inst: &Instance, body: PluginBody) -> Result<Checked, ServiceError> {
    let name = required(body.plugin_name, "plugin_name")?;
    let type_text = required(body.plugin_type, "plugin_type")?;
    let scope_text = required(body.plugin_scope, "plugin_scope")?;
    let content_text = required(body.plugin_content, "plugin_content")?;
    if !valid_name(&name) {
        return Err(ServiceError::invalid("plugin_name", ""));
    }
    let plugin_type = Some(PluginType::from(type_text))
        .filter(|t| inst.flavour.offers(t))
        .ok_or_else(|| ServiceError::invalid("plugin_type", ""))?;
    let scope = match scope_text.parse::<Scope>() {
        Ok(Scope::Global) => Scope::Global,
        Ok(Scope::App) if inst.flavour.supports_app_scope() => Scope::App,
        _ => return Err(ServiceError::invalid("plugin_scope", "")),
    };
    let roma_app_id = if inst.flavour.supports_app_scope() {
        body.roma_app_id.filter(|id| !id.is_empty())
    } else {
        None
    };
    if scope == Scope::App && roma_app_id.is_none() {
        return Err(ServiceError::missing("roma_app_id"));
    }
    if let Some(remark) = &body.remark
        && remark.chars().count() > facts().remark_max_chars
    {
        return Err(ServiceError::invalid("remark", ""));
    }
    let content = content::check(&plugin_type, content_text)?;
    Ok(Checked {
        name,
        plugin_type,
        scope,
        roma_app_id,
        remark: body.remark,
        content,
    })
}

fn name_taken(inst: &Instance, name: &str, except: Option<&str>) -> bool {
    inst.plugins
        .iter()
        .any(|p| p.name == name && Some(p.id.as_str()) != except)
}

fn name_exists() -> ServiceError {
    ServiceError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "APIG.3326",
        "The plugin name already exists",
    )
}

/// Creates a plug-in; returns the stored record.
pub fn create(inst: &mut Instance, body: PluginBody, now: &str) -> Result<PluginRec, ServiceError> {
    let checked = check(inst, body)?;
    if name_taken(inst, &checked.name, None) {
        return Err(name_exists());
    }
    let rec = PluginRec {
        id: inst.next_id("plugin"),
        name: checked.name,
        plugin_type: checked.plugin_type,
        scope: checked.scope,
        roma_app_id: checked.roma_app_id,
        remark: checked.remark,
        content: checked.content,
        create_time: now.to_string(),
        update_time: now.to_string(),
    };
    inst.plugins.push(rec.clone());
    Ok(rec)
}

/// Replaces a plug-in (a full PUT: an omitted remark clears it); type and scope cannot change.
pub fn update(
    inst: &mut Instance,
    id: &str,
    body: PluginBody,
    now: &str,
) -> Result<PluginRec, ServiceError> {
    let current = inst.plugin(id)?.clone();
    let checked = check(inst, body)?;
    if checked.plugin_type != current.plugin_type {
        return Err(ServiceError::invalid(
            "plugin_type",
            "The plug-in type cannot be modified",
        ));
    }
    if checked.scope != current.scope {
        return Err(ServiceError::invalid(
            "plugin_scope",
            "The plug-in scope cannot be modified",
        ));
    }
    if name_taken(inst, &checked.name, Some(id)) {
        return Err(name_exists());
    }
    let rec = PluginRec {
        name: checked.name,
        roma_app_id: checked.roma_app_id,
        remark: checked.remark,
        content: checked.content,
        update_time: now.to_string(),
        ..current
    };
    if let Some(slot) = inst.plugins.get_mut(id) {
        *slot = rec.clone();
    }
    Ok(rec)
}

/// Deletes a plug-in that has no bindings (409 APIG.3462 otherwise).
pub fn delete(inst: &mut Instance, id: &str) -> Result<(), ServiceError> {
    inst.plugin(id)?;
    if inst.bindings.of_plugin(id).next().is_some() {
        return Err(ServiceError::new(
            axum::http::StatusCode::CONFLICT,
            "APIG.3462",
            "The plugin has been attached to the APIs and cannot perform the current operation",
        ));
    }
    inst.plugins.remove(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rule_follows_spec_4_1() {
        assert!(valid_name("cors_public"));
        assert!(valid_name("a-b"));
        assert!(valid_name("插件_x"));
        assert!(!valid_name("ab"));
        assert!(!valid_name("1abc"));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"a".repeat(256)));
    }
}
