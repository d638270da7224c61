//! The system catalogs whose rows a dump carries as objects of their own,
//! and how one such object is named while the dump follows dependencies:
//! a catalog (by its fixed oid) and the object's oid in it.

/// An object in the server's catalog: `pg_depend`'s `(classid, objid)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Node {
    pub class: u32,
    pub oid: u32,
}

/// The catalogs whose objects a dump writes DDL for. Their oids are fixed
/// in the catalog headers of every major (`CATALOG(pg_type,1247,...)`),
/// so `pg_depend`'s class ids map onto them without a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Catalog {
    Type,
    Function,
    Operator,
    OperatorClass,
    OperatorFamily,
    Cast,
    Transform,
    Collation,
    Conversion,
    TextSearchParser,
    TextSearchTemplate,
    TextSearchDictionary,
    TextSearchConfiguration,
    AccessMethod,
    EventTrigger,
}

/// `pg_class`: a dependency on a relation (a table's row type) makes an
/// object wait for the tables.
pub(super) const RELATION_CLASS: u32 = 1259;

impl Catalog {
    pub const ALL: [Catalog; 15] = [
        Catalog::Type,
        Catalog::Function,
        Catalog::Operator,
        Catalog::OperatorClass,
        Catalog::OperatorFamily,
        Catalog::Cast,
        Catalog::Transform,
        Catalog::Collation,
        Catalog::Conversion,
        Catalog::TextSearchParser,
        Catalog::TextSearchTemplate,
        Catalog::TextSearchDictionary,
        Catalog::TextSearchConfiguration,
        Catalog::AccessMethod,
        Catalog::EventTrigger,
    ];

    /// The catalog's own oid, as `pg_depend.classid` holds it.
    pub fn class(self) -> u32 {
        match self {
            Catalog::Type => 1247,
            Catalog::Function => 1255,
            Catalog::Operator => 2617,
            Catalog::OperatorClass => 2616,
            Catalog::OperatorFamily => 2753,
            Catalog::Cast => 2605,
            Catalog::Transform => 3576,
            Catalog::Collation => 3456,
            Catalog::Conversion => 2607,
            Catalog::TextSearchParser => 3601,
            Catalog::TextSearchTemplate => 3764,
            Catalog::TextSearchDictionary => 3600,
            Catalog::TextSearchConfiguration => 3602,
            Catalog::AccessMethod => 2601,
            Catalog::EventTrigger => 3466,
        }
    }

    pub fn of(class: u32) -> Option<Catalog> {
        Catalog::ALL.into_iter().find(|c| c.class() == class)
    }

    pub fn node(self, oid: u32) -> Node {
        Node {
            class: self.class(),
            oid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_maps_back_from_its_oid() {
        for catalog in Catalog::ALL {
            assert_eq!(Catalog::of(catalog.class()), Some(catalog));
        }
        assert_eq!(Catalog::of(RELATION_CLASS), None);
    }
}
