//! `compile::emit`: the [`Pipeline`] → YAML text. This is the one place that decides YAML
//! style: block collections, no folding, and YAML 1.1 quoting of ambiguous scalars
//! (`on`, `yes`, `0755`, `3.10`, ...), because GitLab reads YAML 1.1.

use serde::Serialize;

use crate::gitlab::ir::Pipeline;

/// YAML serialization failed: the IR holds something the serializer cannot write.
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize the pipeline: {0}")]
pub struct EmitError(String);

fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        indent_step: 2,
        prefer_block_scalars: false,
        yaml_12: false,
    }
}

/// Serializes one value with the project's YAML style.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> Result<String, EmitError> {
    serde_saphyr::to_string_with_options(&PsychSafe(value), options())
        .map_err(|e| EmitError(e.to_string()))
}

/// A value whose strings are double-quoted wherever Ruby's Psych, which GitLab reads YAML
/// with, would not read them back as the same string. serde-saphyr's YAML 1.1 quoting covers
/// the standard cases (`on`, `0755`, `3.10`); Psych goes further, for example dropping `,` and
/// `_` from numbers (`0755,` is 493, `1,000` is 1000). The wrapper passes every other call
/// through to the YAML serializer unchanged.
struct PsychSafe<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for PsychSafe<'_, T> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Proxy(ser))
    }
}

fn psych_reads_back(s: &str) -> bool {
    // Psych's non-strings (numbers, sexagesimals, booleans, nulls, `.inf`) are made of
    // letters, digits and `+-.,_:~` alone; and a string that starts with a letter can only be
    // one of the boolean and null words (at most 5 letters). Only the rest needs the full
    // resolution.
    let bytes = s.as_bytes();
    let plain_chars = |b: &u8| b.is_ascii_alphanumeric() || b"+-.,_:~".contains(b);
    match bytes.first() {
        Some(_) if !bytes.iter().all(plain_chars) => true,
        Some(c)
            if c.is_ascii_alphabetic()
                && (s.len() > 5 || !bytes.iter().all(u8::is_ascii_alphabetic)) =>
        {
            true
        }
        _ => matches!(crate::yaml::scalar::resolve_plain(s), crate::yaml::Value::Str(t) if t == s),
    }
}

/// The serializer side of [`PsychSafe`]: strings are checked, compound values wrap their
/// members again, everything else is forwarded.
struct Proxy<S>(S);

struct ProxyCompound<C>(C);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
            self.0.$method($($arg),*)
        })*
    };
}

impl<S: serde::Serializer> serde::Serializer for Proxy<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = ProxyCompound<S::SerializeSeq>;
    type SerializeTuple = ProxyCompound<S::SerializeTuple>;
    type SerializeTupleStruct = ProxyCompound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = ProxyCompound<S::SerializeTupleVariant>;
    type SerializeMap = ProxyCompound<S::SerializeMap>;
    type SerializeStruct = ProxyCompound<S::SerializeStruct>;
    type SerializeStructVariant = ProxyCompound<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_str(self, v: &str) -> Result<Self::Ok, Self::Error> {
        if psych_reads_back(v) {
            self.0.serialize_str(v)
        } else {
            serde_saphyr::DoubleQuoted(v).serialize(self.0)
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Self::Ok, Self::Error> {
        self.0.serialize_some(&PsychSafe(v))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<Self::Ok, Self::Error> {
        self.0.serialize_newtype_struct(name, &PsychSafe(v))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Self::Ok, Self::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &PsychSafe(v))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        self.0.serialize_seq(len).map(ProxyCompound)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Self::Error> {
        self.0.serialize_tuple(len).map(ProxyCompound)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        self.0.serialize_tuple_struct(name, len).map(ProxyCompound)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(ProxyCompound)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        self.0.serialize_map(len).map(ProxyCompound)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        self.0.serialize_struct(name, len).map(ProxyCompound)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(ProxyCompound)
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: serde::ser::$trait> serde::ser::$trait for ProxyCompound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
                self.0.$method(&PsychSafe(v))
            }
            fn end(self) -> Result<Self::Ok, Self::Error> {
                self.0.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: serde::ser::SerializeMap> serde::ser::SerializeMap for ProxyCompound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Self::Error> {
        self.0.serialize_key(&PsychSafe(k))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Self::Error> {
        self.0.serialize_value(&PsychSafe(v))
    }
    fn end(self) -> Result<Self::Ok, Self::Error> {
        self.0.end()
    }
}

macro_rules! fields {
    ($trait:ident) => {
        impl<C: serde::ser::$trait> serde::ser::$trait for ProxyCompound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), Self::Error> {
                self.0.serialize_field(key, &PsychSafe(v))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
                self.0.skip_field(key)
            }
            fn end(self) -> Result<Self::Ok, Self::Error> {
                self.0.end()
            }
        }
    };
}

fields!(SerializeStruct);
fields!(SerializeStructVariant);

/// The body of the file (everything after the banner): top-level sections separated by a
/// blank line so that each job reads as a block.
pub fn body(pipeline: &Pipeline) -> Result<String, EmitError> {
    #[derive(Serialize)]
    struct Head<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        workflow: Option<&'a crate::gitlab::ir::Workflow>,
        #[serde(skip_serializing_if = "Option::is_none")]
        default: Option<&'a crate::gitlab::ir::Defaults>,
        stages: &'a [String],
        #[serde(skip_serializing_if = "indexmap::IndexMap::is_empty")]
        variables: &'a indexmap::IndexMap<String, String>,
    }
    let mut sections: Vec<String> = Vec::new();
    sections.push(to_yaml(&Head {
        workflow: pipeline.workflow.as_ref(),
        default: pipeline.default.as_ref(),
        stages: &pipeline.stages,
        variables: &pipeline.variables,
    })?);
    for (name, job) in &pipeline.jobs {
        let mut one = indexmap::IndexMap::new();
        one.insert(name, job);
        sections.push(to_yaml(&one)?);
    }
    Ok(sections
        .iter()
        .map(|s| s.trim_end_matches('\n'))
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n")
}

/// One entry of the top-level `variables:` block, as it appears in [`body`]: the line with
/// its indentation and newline.
pub fn variable_line(name: &str, value: &str) -> Result<String, EmitError> {
    let mut one = indexmap::IndexMap::new();
    one.insert(name, value);
    let mut outer = indexmap::IndexMap::new();
    outer.insert("variables", one);
    let text = to_yaml(&outer)?;
    Ok(text
        .split_once('\n')
        .map_or_else(String::new, |(_, rest)| rest.to_owned()))
}

/// The banner that opens every generated file.
pub fn banner(config_path: &str, command: &str) -> String {
    crate::templates::render(
        "banner.txt",
        minijinja::context! {
            version => crate::VERSION,
            config => config_path,
            command => command,
            parent => command.contains("--child-pipeline"),
        },
    )
    .expect("the banner template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_line_matches_the_block_in_body() {
        let mut p = Pipeline::default();
        p.stages.push("a".into());
        p.variables.insert("X".into(), String::new());
        p.variables.insert("Y".into(), "on".into());
        let text = body(&p).expect("emits");
        let line = variable_line("X", "").expect("emits");
        assert_eq!(line, "  X: \"\"\n");
        assert_eq!(text.matches(&line).count(), 1, "{text}");
        // `Y` is a YAML 1.1 boolean too, so even the key is quoted.
        assert_eq!(
            variable_line("Y", "on").expect("emits"),
            "  \"Y\": \"on\"\n"
        );
    }

    proptest::proptest! {
        /// Number-like strings survive the trip through YAML as Psych reads it, as values and
        /// as keys.
        #[test]
        fn numberish_strings_read_back(s in "[0-9,_.:+-]{1,6}|[0-9a-fA-FxXoOeE,_.:+~ -]{0,8}") {
            let text = to_yaml(&vec![s.clone()]).expect("emits");
            let back = crate::yaml::parse(&text).expect("parses").to_json();
            proptest::prop_assert_eq!(back, serde_json::json!([s.clone()]), "{}", text);
            let mut m = indexmap::IndexMap::new();
            m.insert(s.clone(), 1);
            let text = to_yaml(&m).expect("emits");
            let back = crate::yaml::parse(&text).expect("parses").to_json();
            proptest::prop_assert_eq!(back, serde_json::json!({ s.as_str(): 1 }), "{}", text);
        }

        /// The letter-first shortcut answers as the full Psych resolution does.
        #[test]
        fn shortcut_agrees_with_psych(s in "[A-Za-z0-9~.+:-][A-Za-z0-9 ._:,~+$/*=-]{0,8}") {
            let full = matches!(crate::yaml::scalar::resolve_plain(&s), crate::yaml::Value::Str(t) if t == s);
            proptest::prop_assert_eq!(psych_reads_back(&s), full, "{:?}", s);
        }
    }

    #[test]
    fn psych_numbers_with_separators_are_quoted() {
        // Psych drops `,` and `_` from numbers: unquoted, these would reach GitLab as ints.
        for s in ["0755,", "1,000", "1_000", "0x1_F", "1,5.0"] {
            let text = to_yaml(&vec![s]).expect("emits");
            assert_eq!(text, format!("- \"{s}\"\n"), "{s}");
            let back = crate::yaml::parse(&text).expect("parses").to_json();
            assert_eq!(back, serde_json::json!([s]));
        }
        assert_eq!(to_yaml(&vec!["plain"]).expect("emits"), "- plain\n");
    }
}
