//! Streaming a JSON array element by element, so a report is never held whole in memory.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

/// A `null` or an array of `T`, each element handed to `each` as soon as it is read. Reports write
/// `null` for "nothing" (`"Issues": null`, `results: null` when a tool did not run): that is not an error.
pub(crate) struct EachOf<'f, T, F: FnMut(T)> {
    /// Said in errors: "an array of issues or null".
    pub(crate) what: &'static str,
    pub(crate) each: &'f mut F,
    pub(crate) element: PhantomData<T>,
}

impl<'f, T, F: FnMut(T)> EachOf<'f, T, F> {
    pub(crate) fn new(what: &'static str, each: &'f mut F) -> Self {
        Self {
            what,
            each,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for EachOf<'_, T, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for EachOf<'_, T, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {} or null", self.what)
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(element);
        }
        Ok(())
    }
}
