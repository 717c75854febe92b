//! Categories: a tree at most two levels deep (top-level categories and categories
//! under one of them), named by slug in the API. The database holds the depth as a
//! constraint; the checks here give the reasons a request is refused.

use serde::Serialize;
use spinshop_kit::{ApiError, ApiResult};

use super::product::trimmed_name;

pub const MAX_SLUG_CHARS: usize = 64;
pub const MAX_CATEGORY_NAME_CHARS: usize = 100;

/// A category's slug: 1 to 64 characters, lower-case ASCII letters and digits in
/// words joined by single hyphens (`audio`, `usb-c-hubs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// A slug sent as `field` (a body field or a query parameter), named in the error.
    pub fn parse(raw: &str, field: &str) -> ApiResult<Slug> {
        if is_slug(raw) {
            Ok(Slug(raw.to_string()))
        } else {
            Err(ApiError::invalid_field(
                field,
                format!(
                    "{field} must be a slug: 1 to {MAX_SLUG_CHARS} lower-case letters and digits, \
                     words joined by single hyphens (e.g. usb-c-hubs)"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug(raw: &str) -> bool {
    (1..=MAX_SLUG_CHARS).contains(&raw.len())
        && raw.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A category's name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(raw: &str) -> ApiResult<CategoryName> {
        trimmed_name(raw, MAX_CATEGORY_NAME_CHARS).map(CategoryName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `POST /categories`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    pub slug: Slug,
    pub name: CategoryName,
    pub parent: Option<Slug>,
}

impl NewCategory {
    pub fn parse(slug: &str, name: &str, parent: Option<&str>) -> ApiResult<NewCategory> {
        let slug = Slug::parse(slug, "slug")?;
        let parent = parent.map(|raw| Slug::parse(raw, "parent")).transpose()?;
        if parent.as_ref() == Some(&slug) {
            return Err(own_parent());
        }
        Ok(NewCategory {
            slug,
            name: CategoryName::parse(name)?,
            parent,
        })
    }
}

/// `PATCH /categories/{slug}`, checked: a new name, a new parent (`Some(None)`: make
/// it top-level), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryPatch {
    pub name: Option<CategoryName>,
    pub parent: Option<Option<Slug>>,
}

impl CategoryPatch {
    pub fn parse(
        slug: &Slug,
        name: Option<&str>,
        parent: Option<Option<&str>>,
    ) -> ApiResult<CategoryPatch> {
        let parent = parent
            .map(|parent| parent.map(|raw| Slug::parse(raw, "parent")).transpose())
            .transpose()?;
        if parent.as_ref().is_some_and(|p| p.as_ref() == Some(slug)) {
            return Err(own_parent());
        }
        if name.is_none() && parent.is_none() {
            return Err(ApiError::validation(
                "nothing to update: send name, parent or both",
            ));
        }
        Ok(CategoryPatch {
            name: name.map(CategoryName::parse).transpose()?,
            parent,
        })
    }
}

fn own_parent() -> ApiError {
    ApiError::invalid_field("parent", "a category can't be its own parent")
}

/// What the tree looks like around a category about to be placed under `parent`.
pub struct Placement<'a> {
    pub slug: &'a Slug,
    /// The category has categories under it (false for a new one).
    pub has_children: bool,
    pub parent: &'a Slug,
    /// The parent's own parent, when it has one.
    pub grandparent: Option<&'a str>,
}

impl Placement<'_> {
    /// Refuses a placement that would nest three levels deep.
    pub fn check(&self) -> ApiResult<()> {
        if let Some(grandparent) = self.grandparent {
            return Err(too_deep(format!(
                "categories nest two levels deep at most: {} is under {grandparent}, \
                 so nothing can go under it",
                self.parent.as_str()
            )));
        }
        if self.has_children {
            return Err(too_deep(format!(
                "categories nest two levels deep at most: {} has categories under it, \
                 so it can't go under another",
                self.slug.as_str()
            )));
        }
        Ok(())
    }
}

/// The 409 for a change that would nest categories three deep.
pub fn too_deep(message: String) -> ApiError {
    ApiError::conflict("category_too_deep", message)
}

/// The 404 for a category slug that names none (in the path).
pub fn no_such_category(slug: &str) -> ApiError {
    ApiError::not_found(format!("no category with slug {slug}"))
}

/// The 400 for a category slug in a body that names none.
pub fn unknown_category(field: &str, slug: &Slug) -> ApiError {
    ApiError::invalid_field(field, format!("no category with slug {}", slug.as_str()))
}

/// A product's category as the product shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryRef {
    pub slug: String,
    pub name: String,
}

/// A category as the API shows it: `count` is the number of products in it that are
/// not archived, for a top-level category including those of the categories under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub count: i64,
}

/// A top-level category and the categories under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryNode {
    #[serde(flatten)]
    pub category: Category,
    pub children: Vec<Category>,
}

/// The tree from categories in any order: top-level ones and, under each, its
/// children, both in the order given.
pub fn category_tree(categories: Vec<Category>) -> Vec<CategoryNode> {
    let (top, children): (Vec<_>, Vec<_>) =
        categories.into_iter().partition(|c| c.parent.is_none());
    top.into_iter()
        .map(|category| CategoryNode {
            children: children
                .iter()
                .filter(|child| child.parent.as_deref() == Some(category.slug.as_str()))
                .cloned()
                .collect(),
            category,
        })
        .collect()
}
