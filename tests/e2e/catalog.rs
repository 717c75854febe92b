//! products' catalog: categories (who may change them, the two-level limit, what
//! can't be deleted), products in categories, and the product list's search (ranked
//! full-text with websearch syntax, misspelled words corrected), sorting, price range and facets
//! (`GET /search`; `GET /products` takes the same query and answers the same
//! products as a JSON array).

use serde_json::{Value, json};
use spinshop_tests::{Response, Session, TestApp};

const PRODUCTS: &str = "/api/products/products";
const SEARCH: &str = "/api/products/search";
const CATEGORIES: &str = "/api/products/categories";

fn category_path(slug: &str) -> String {
    format!("{CATEGORIES}/{slug}")
}

async fn create_category(app: &TestApp, admin: &Session, body: Value) -> Response {
    app.post(CATEGORIES, &body, Some(&admin.access_token)).await
}

async fn category(app: &TestApp, admin: &Session, slug: &str, name: &str, parent: Option<&str>) {
    let created = create_category(
        app,
        admin,
        json!({"slug": slug, "name": name, "parent": parent}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
}

/// A product with a description, a price and a category (or none); its id.
async fn product(
    app: &TestApp,
    admin: &Session,
    name: &str,
    description: &str,
    price: i64,
    category: Option<&str>,
) -> i64 {
    let body = json!({"name": name, "description": description, "price": price,
                      "stock": 5, "category": category});
    let created = app.post(PRODUCTS, &body, Some(&admin.access_token)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    created.json()["id"].as_i64().unwrap()
}

/// The search's answer to `query`: a page, its total and the facets.
async fn list(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("{SEARCH}?{query}"), None).await;
    assert_eq!(response.status, 200, "{query}: {}", response.text());
    let page = response.json();
    assert_eq!(
        response.header("x-total-count").map(str::to_string),
        Some(page["total"].to_string()),
        "{query}"
    );
    page
}

/// The ids of the products a query finds, in their order: the same from the search
/// and from the product list.
async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let ids_in = |items: &Value| -> Vec<i64> {
        let items = items.as_array().unwrap();
        items.iter().map(|p| p["id"].as_i64().unwrap()).collect()
    };
    let found = ids_in(&list(app, query).await["items"]);
    let listed = app.get(&format!("{PRODUCTS}?{query}"), None).await;
    assert_eq!(listed.status, 200, "{query}: {}", listed.text());
    assert_eq!(
        ids_in(&listed.json()),
        found,
        "{query}: the list and the search"
    );
    found
}

/// Electronics > Audio and Electronics > Computers, and Kitchen.
async fn tree(app: &TestApp, admin: &Session) {
    category(app, admin, "electronics", "Electronics", None).await;
    category(app, admin, "audio", "Audio", Some("electronics")).await;
    category(app, admin, "computers", "Computers", Some("electronics")).await;
    category(app, admin, "kitchen", "Kitchen", None).await;
}

// Categories -------------------------------------------------------------------------------

#[tokio::test]
async fn anyone_reads_the_categories_and_only_admins_change_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let customer = app.register("alice@example.com", "alice-password-1").await;
    let body = json!({"slug": "audio", "name": "Audio", "parent": null});

    let empty = app.get(CATEGORIES, None).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json(), json!([]));
    assert_eq!(app.post(CATEGORIES, &body, None).await.status, 401);
    let refused = app
        .post(CATEGORIES, &body, Some(&customer.access_token))
        .await;
    assert_eq!(refused.status, 403);

    let created = create_category(&app, &admin, body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.json(),
        json!({"slug": "audio", "name": "Audio", "parent": null, "count": 0})
    );
    let again = create_category(&app, &admin, body).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "slug_taken");

    let rename = json!({"name": "Sound"});
    assert_eq!(
        app.patch(&category_path("audio"), &rename, None)
            .await
            .status,
        401
    );
    assert_eq!(
        app.patch(
            &category_path("audio"),
            &rename,
            Some(&customer.access_token)
        )
        .await
        .status,
        403
    );
    let renamed = app
        .patch(&category_path("audio"), &rename, Some(&admin.access_token))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], "Sound");

    assert_eq!(app.delete(&category_path("audio"), None).await.status, 401);
    assert_eq!(
        app.delete(&category_path("audio"), Some(&customer.access_token))
            .await
            .status,
        403
    );
    assert_eq!(app.count("catalog.categories").await, 1);
    let deleted = app
        .delete(&category_path("audio"), Some(&admin.access_token))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert_eq!(app.count("catalog.categories").await, 0);
    for path in [category_path("audio"), category_path("Not-A-Slug")] {
        let gone = app.delete(&path, Some(&admin.access_token)).await;
        assert_eq!(gone.status, 404, "{path}");
        let gone = app.patch(&path, &rename, Some(&admin.access_token)).await;
        assert_eq!(gone.status, 404, "{path}");
    }
}

#[tokio::test]
async fn invalid_categories_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (body, field) in [
        (json!({"slug": "Audio", "name": "Audio"}), "slug"),
        (json!({"slug": "usb--c", "name": "USB-C"}), "slug"),
        (json!({"slug": "a".repeat(65), "name": "Long"}), "slug"),
        (json!({"slug": "audio", "name": "  "}), "name"),
        (
            json!({"slug": "audio", "name": "Audio", "parent": "audio"}),
            "parent",
        ),
        (
            json!({"slug": "audio", "name": "Audio", "parent": "nowhere"}),
            "parent",
        ),
    ] {
        let refused = create_category(&app, &admin, body.clone()).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text());
        assert_eq!(refused.error_field(), field, "{body}");
    }
    let unknown_field =
        create_category(&app, &admin, json!({"slug": "a", "name": "A", "x": 1})).await;
    assert_eq!(unknown_field.status, 400);
    let nothing = app
        .patch(&category_path("a"), &json!({}), Some(&admin.access_token))
        .await;
    assert_eq!(nothing.status, 400);
    assert_eq!(app.count("catalog.categories").await, 0);
}

#[tokio::test]
async fn categories_nest_two_levels_deep_at_most() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    tree(&app, &admin).await;

    let third = create_category(
        &app,
        &admin,
        json!({"slug": "headphones", "name": "Headphones", "parent": "audio"}),
    )
    .await;
    assert_eq!(third.status, 409, "{}", third.text());
    assert_eq!(third.error_code(), "category_too_deep");

    let token = Some(admin.access_token.as_str());
    let under_a_child = app
        .patch(
            &category_path("kitchen"),
            &json!({"parent": "audio"}),
            token,
        )
        .await;
    assert_eq!(under_a_child.status, 409);
    assert_eq!(under_a_child.error_code(), "category_too_deep");
    let parent_under_another = app
        .patch(
            &category_path("electronics"),
            &json!({"parent": "kitchen"}),
            token,
        )
        .await;
    assert_eq!(parent_under_another.status, 409);
    assert_eq!(parent_under_another.error_code(), "category_too_deep");
    let own_parent = app
        .patch(
            &category_path("kitchen"),
            &json!({"parent": "kitchen"}),
            token,
        )
        .await;
    assert_eq!(own_parent.status, 400);
    assert_eq!(own_parent.error_field(), "parent");

    // A child moves to another parent, or to the top; then its old parent can move.
    let moved = app
        .patch(
            &category_path("audio"),
            &json!({"parent": "kitchen"}),
            token,
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["parent"], "kitchen");
    let top = app
        .patch(
            &category_path("computers"),
            &json!({"parent": null, "name": "PCs"}),
            token,
        )
        .await;
    assert_eq!(top.status, 200, "{}", top.text());
    assert_eq!(top.json()["parent"], Value::Null);
    assert_eq!(top.json()["name"], "PCs");
    let childless = app
        .patch(
            &category_path("electronics"),
            &json!({"parent": "computers"}),
            token,
        )
        .await;
    assert_eq!(childless.status, 200, "{}", childless.text());

    let shape: Vec<(String, Vec<String>)> = app
        .get(CATEGORIES, None)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let children = node["children"].as_array().unwrap();
            (
                node["slug"].as_str().unwrap().to_string(),
                children
                    .iter()
                    .map(|c| c["slug"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let expected = [
        ("kitchen", vec!["audio"]),
        ("computers", vec!["electronics"]),
    ];
    let mut expected: Vec<(String, Vec<String>)> = expected
        .into_iter()
        .map(|(slug, children)| {
            (
                slug.into(),
                children.into_iter().map(String::from).collect(),
            )
        })
        .collect();
    expected.sort();
    let mut shape = shape;
    shape.sort();
    assert_eq!(shape, expected);
}

#[tokio::test]
async fn a_category_holding_products_or_categories_is_not_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    tree(&app, &admin).await;
    let token = Some(admin.access_token.as_str());
    let pan = product(
        &app,
        &admin,
        "Frying pan",
        "Cast iron.",
        3000,
        Some("kitchen"),
    )
    .await;

    let holding = app.delete(&category_path("kitchen"), token).await;
    assert_eq!(holding.status, 409, "{}", holding.text());
    assert_eq!(holding.error_code(), "category_not_empty");
    let parent = app.delete(&category_path("electronics"), token).await;
    assert_eq!(parent.status, 409);
    assert_eq!(parent.error_code(), "category_has_children");
    assert_eq!(app.count("catalog.categories").await, 4);

    // An archived product (one an order refers to) doesn't hold its category.
    let reserved = app
        .post_internal(
            "/api/products/internal/reserve",
            &json!({"order_id": 1, "items": [{"product_id": pan, "qty": 1}]}),
        )
        .await;
    assert_eq!(reserved.status, 200, "{}", reserved.text());
    let archived = app.delete(&format!("{PRODUCTS}/{pan}"), token).await;
    assert_eq!(archived.status, 204);
    let deleted = app.delete(&category_path("kitchen"), token).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let kept = app.get(&format!("{PRODUCTS}/{pan}"), None).await.json();
    assert_eq!(kept["archived"], true);
    assert_eq!(kept["category"], Value::Null);
}

#[tokio::test]
async fn products_carry_their_category_and_the_tree_counts_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    tree(&app, &admin).await;
    let token = Some(admin.access_token.as_str());
    let speaker = product(&app, &admin, "Speaker", "Loud.", 5000, Some("audio")).await;
    product(&app, &admin, "Laptop", "Light.", 90000, Some("computers")).await;
    product(&app, &admin, "Cable", "Long.", 500, Some("electronics")).await;
    let plain = product(&app, &admin, "Sticker", "Round.", 100, None).await;

    let read = app.get(&format!("{PRODUCTS}/{speaker}"), None).await.json();
    assert_eq!(read["category"], json!({"slug": "audio", "name": "Audio"}));
    let read = app.get(&format!("{PRODUCTS}/{plain}"), None).await.json();
    assert_eq!(read["category"], Value::Null);

    let unknown = app
        .post(
            PRODUCTS,
            &json!({"name": "X", "price": 1, "category": "nowhere"}),
            token,
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error_field(), "category");
    let malformed = app
        .patch(
            &format!("{PRODUCTS}/{plain}"),
            &json!({"category": "No Slug"}),
            token,
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.error_field(), "category");
    assert_eq!(app.count("catalog.products").await, 4);

    let tree = app.get(CATEGORIES, None).await.json();
    let electronics = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["slug"] == "electronics")
        .unwrap();
    assert_eq!(
        electronics["count"], 3,
        "its own product and its children's"
    );
    let counts: Vec<(&str, i64)> = electronics["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["slug"].as_str().unwrap(), c["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [("audio", 1), ("computers", 1)]);

    // Moving a product, taking it out, and a PUT without a category.
    let moved = app
        .patch(
            &format!("{PRODUCTS}/{plain}"),
            &json!({"category": "kitchen"}),
            token,
        )
        .await;
    assert_eq!(moved.json()["category"]["slug"], "kitchen");
    let out = app
        .patch(
            &format!("{PRODUCTS}/{plain}"),
            &json!({"category": null}),
            token,
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.text());
    assert_eq!(out.json()["category"], Value::Null);
    let replaced = app
        .put(
            &format!("{PRODUCTS}/{speaker}"),
            &json!({"name": "Speaker", "price": 5000, "stock": 5}),
            token,
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["category"], Value::Null);
}

// Listing ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_top_level_category_lists_the_products_of_its_children_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    tree(&app, &admin).await;
    let speaker = product(&app, &admin, "Speaker", "Loud.", 5000, Some("audio")).await;
    let laptop = product(&app, &admin, "Laptop", "Light.", 90000, Some("computers")).await;
    let cable = product(&app, &admin, "Cable", "Long.", 500, Some("electronics")).await;
    product(&app, &admin, "Kettle", "Hot.", 2000, Some("kitchen")).await;
    product(&app, &admin, "Sticker", "Round.", 100, None).await;

    assert_eq!(
        ids(&app, "category=electronics&sort=price_asc").await,
        [cable, speaker, laptop]
    );
    assert_eq!(ids(&app, "category=audio").await, [speaker]);
    let nowhere = list(&app, "category=nowhere").await;
    assert_eq!(nowhere["items"], json!([]));
    assert_eq!(nowhere["total"], 0);
}

#[tokio::test]
async fn a_search_ranks_name_matches_above_description_matches() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let in_description = product(
        &app,
        &admin,
        "Desk lamp",
        "Pairs with any wireless charger.",
        2000,
        None,
    )
    .await;
    let in_name = product(&app, &admin, "Wireless charger", "Fast.", 3000, None).await;
    product(&app, &admin, "Kettle", "Boils water.", 2500, None).await;

    assert_eq!(ids(&app, "q=wireless").await, [in_name, in_description]);
    assert_eq!(
        ids(&app, "q=charger&sort=relevance").await,
        [in_name, in_description]
    );
    // Stemming: the plural finds the singular.
    assert_eq!(ids(&app, "q=chargers").await, [in_name, in_description]);
}

#[tokio::test]
async fn a_search_takes_phrases_and_excluded_words() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mouse = product(&app, &admin, "Wireless mouse", "Two buttons.", 2999, None).await;
    let keyboard = product(&app, &admin, "Wireless keyboard", "Quiet keys.", 4999, None).await;
    let headphones = product(
        &app,
        &admin,
        "Headphones",
        "Noise cancelling, wireless.",
        9999,
        None,
    )
    .await;
    let earbuds = product(&app, &admin, "Earbuds", "Cancelling the noise.", 5999, None).await;

    let mut found = ids(&app, "q=wireless%20-mouse").await;
    found.sort_unstable();
    assert_eq!(found, [keyboard, headphones]);
    assert!(!ids(&app, "q=wireles%20-mouse").await.contains(&mouse));
    assert_eq!(
        ids(&app, "q=%22noise%20cancelling%22").await,
        [headphones],
        "a phrase keeps its words together and in order"
    );
    let mut either = ids(&app, "q=noise%20cancelling").await;
    either.sort_unstable();
    assert_eq!(either, [headphones, earbuds]);
}

#[tokio::test]
async fn a_short_or_misspelled_search_finds_near_matches() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mouse = product(&app, &admin, "Wireless mouse", "Two buttons.", 2999, None).await;
    let gaming = product(&app, &admin, "Gaming mouse", "Many buttons.", 5999, None).await;
    let kettle = product(&app, &admin, "Kettle", "Boils water.", 2500, None).await;

    assert_eq!(ids(&app, "q=wireles").await, [mouse]);
    let mut mice = ids(&app, "q=mous").await;
    mice.sort_unstable();
    assert_eq!(mice, [mouse, gaming]);
    assert_eq!(ids(&app, "q=ketle").await, [kettle]);
    assert_eq!(ids(&app, "q=zzzz").await, Vec::<i64>::new());
    // A word cut short matches the words it begins; query syntax is only text.
    assert_eq!(ids(&app, "q=ket").await, [kettle]);
    assert_eq!(
        ids(&app, "q=%26%7C%21%28%3A%2A%27%5C").await,
        Vec::<i64>::new()
    );

    // Each word is corrected on its own, from the names and the descriptions, and
    // excluded words stay excluded.
    let keyboard = product(&app, &admin, "Wireless keyboard", "Quiet keys.", 4999, None).await;
    let plain = product(&app, &admin, "Keyboard", "Many buttons.", 1999, None).await;
    assert_eq!(ids(&app, "q=wireles%20keybord").await, [keyboard]);
    // A word is also the start of longer ones, even where it matches as it is: the
    // product with the word itself ("keys") first.
    assert_eq!(ids(&app, "q=key").await, [keyboard, plain]);
    assert_eq!(ids(&app, "q=keybord%20-wireless").await, [plain]);
    let mut buttons = ids(&app, "q=buttns").await;
    buttons.sort_unstable();
    assert_eq!(buttons, [mouse, gaming, plain]);

    // A renamed product's old words correct to nothing any more, its new ones do.
    let renamed = app
        .patch(
            &format!("{PRODUCTS}/{kettle}"),
            &json!({"name": "Teapot", "description": "Brews tea."}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(ids(&app, "q=ketle").await, Vec::<i64>::new());
    assert_eq!(ids(&app, "q=teapo").await, [kettle]);
}

/// The catalog's words are counted as products are written; many written at once,
/// sharing their words in different orders, are all written, and every word is
/// counted once per product.
#[tokio::test]
async fn products_written_at_once_all_count_their_words() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let words = ["amber", "birch", "cedar", "delta", "ember"];
    let writes = (0..24).map(|i| {
        let mut name: Vec<&str> = words.to_vec();
        name.rotate_left(i % words.len());
        let body = json!({"name": name.join(" "), "description": "Oiled.", "price": 100,
                          "stock": 1});
        let (app, token) = (&app, admin.access_token.clone());
        async move { app.post(PRODUCTS, &body, Some(&token)).await.status }
    });
    let statuses = futures::future::join_all(writes).await;
    assert!(statuses.iter().all(|&status| status == 201), "{statuses:?}");

    let all = ["amber", "birch", "cedar", "delta", "ember", "oiled"];
    let expected = |counts: [i32; 6]| -> Vec<(String, i32)> {
        all.iter().map(|w| w.to_string()).zip(counts).collect()
    };
    assert_eq!(counted_words(&app, &all).await, expected([24; 6]));

    // A product deleted, and one renamed to a single word of the five: each word is
    // counted as often as products still use it.
    let listed = app.get(&format!("{PRODUCTS}?limit=2"), None).await.json();
    let newest: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let deleted = app
        .delete(
            &format!("{PRODUCTS}/{}", newest[0]),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let renamed = app
        .patch(
            &format!("{PRODUCTS}/{}", newest[1]),
            &json!({"name": "Amber"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(
        counted_words(&app, &all).await,
        expected([23, 22, 22, 22, 22, 23])
    );
    assert_eq!(list(&app, "q=cedarr").await["total"], 22);

    // A word's last two uses going one by one.
    let lamp = product(&app, &admin, "Quartz lamp", "Warm.", 100, None).await;
    let clock = product(&app, &admin, "Quartz clock", "Warm.", 100, None).await;
    let quartz = [("quartz".to_string(), 2), ("warm".to_string(), 2)];
    assert_eq!(counted_words(&app, &["quartz", "warm"]).await, quartz);
    let erase = async |id: i64| {
        let path = format!("{PRODUCTS}/{id}");
        app.delete(&path, Some(&admin.access_token)).await
    };
    assert_eq!(erase(lamp).await.status, 204);
    let quartz = [("quartz".to_string(), 1), ("warm".to_string(), 1)];
    assert_eq!(counted_words(&app, &["quartz", "warm"]).await, quartz);
    assert_eq!(ids(&app, "q=qartz").await, [clock]);
    assert_eq!(erase(clock).await.status, 204);
    assert_eq!(counted_words(&app, &["quartz", "warm"]).await, []);

    // Products sharing a word deleted at once: every use is taken off.
    let mut garnets = Vec::new();
    for i in 0..12 {
        garnets.push(product(&app, &admin, &format!("Garnet {i}"), "Red.", 100, None).await);
    }
    let statuses = futures::future::join_all(garnets[..6].iter().map(|&id| erase(id))).await;
    assert!(statuses.iter().all(|r| r.status == 204));
    let garnet = [("garnet".to_string(), 6), ("red".to_string(), 6)];
    assert_eq!(counted_words(&app, &["garnet", "red"]).await, garnet);
    let statuses = futures::future::join_all(garnets[6..].iter().map(|&id| erase(id))).await;
    assert!(statuses.iter().all(|r| r.status == 204));
    assert_eq!(counted_words(&app, &["garnet", "red"]).await, []);
}

/// How many products use each of `words` that some product uses, in word order.
async fn counted_words(app: &TestApp, words: &[&str]) -> Vec<(String, i32)> {
    let rows = app
        .db()
        .await
        .query(
            "SELECT word, products FROM catalog.search_words WHERE word = ANY($1) ORDER BY word",
            &[&words],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

#[tokio::test]
async fn the_list_sorts_by_price_newest_and_relevance() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mid = product(&app, &admin, "Lamp", "A lamp.", 2000, None).await;
    let cheap = product(&app, &admin, "Lamp shade", "For a lamp.", 500, None).await;
    let dear = product(
        &app,
        &admin,
        "Floor light",
        "Taller than a lamp.",
        9000,
        None,
    )
    .await;

    assert_eq!(ids(&app, "").await, [dear, cheap, mid], "newest by default");
    assert_eq!(ids(&app, "sort=newest").await, [dear, cheap, mid]);
    assert_eq!(
        ids(&app, "sort=relevance").await,
        [dear, cheap, mid],
        "relevance without a search is newest"
    );
    assert_eq!(ids(&app, "sort=price_asc").await, [cheap, mid, dear]);
    assert_eq!(ids(&app, "sort=price_desc").await, [dear, mid, cheap]);
    assert_eq!(
        ids(&app, "q=lamp").await[2],
        dear,
        "relevance with a search"
    );
    assert_eq!(
        ids(&app, "q=lamp&sort=price_desc").await,
        [dear, mid, cheap]
    );
}

#[tokio::test]
async fn the_list_keeps_prices_within_bounds() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cheap = product(&app, &admin, "A", "a", 999, None).await;
    let mid = product(&app, &admin, "B", "b", 1000, None).await;
    let dear = product(&app, &admin, "C", "c", 2500, None).await;

    assert_eq!(
        ids(&app, "min_price=1000&sort=price_asc").await,
        [mid, dear]
    );
    assert_eq!(
        ids(&app, "max_price=1000&sort=price_asc").await,
        [cheap, mid]
    );
    assert_eq!(ids(&app, "min_price=1000&max_price=2499").await, [mid]);
    assert_eq!(ids(&app, "min_price=1000&max_price=1000").await, [mid]);
    assert_eq!(list(&app, "min_price=3000").await["total"], 0);
}

#[tokio::test]
async fn facets_count_categories_and_price_bands_for_the_query() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    tree(&app, &admin).await;
    product(
        &app,
        &admin,
        "Wireless speaker",
        "Loud.",
        5000,
        Some("audio"),
    )
    .await;
    product(
        &app,
        &admin,
        "Wireless headphones",
        "Quiet.",
        12000,
        Some("audio"),
    )
    .await;
    product(
        &app,
        &admin,
        "Wireless mouse",
        "Small.",
        2999,
        Some("computers"),
    )
    .await;
    product(
        &app,
        &admin,
        "Wireless kettle",
        "Odd.",
        800,
        Some("kitchen"),
    )
    .await;
    product(&app, &admin, "Wireless sticker", "Odder.", 100, None).await;
    product(&app, &admin, "Toaster", "Warm.", 2000, Some("kitchen")).await;

    let page = list(&app, "q=wireless").await;
    assert_eq!(page["total"], 5);
    assert_eq!(
        page["facets"]["categories"],
        json!([
            {"slug": "electronics", "name": "Electronics", "count": 3},
            {"slug": "audio", "name": "Audio", "count": 2},
            {"slug": "computers", "name": "Computers", "count": 1},
            {"slug": "kitchen", "name": "Kitchen", "count": 1},
        ])
    );
    assert_eq!(
        page["facets"]["price_bands"],
        json!([
            {"min": 0, "max": 999, "count": 2},
            {"min": 2500, "max": 4999, "count": 1},
            {"min": 5000, "max": 9999, "count": 1},
            {"min": 10000, "max": 24999, "count": 1},
        ])
    );

    // Each facet ignores its own filter and obeys the others.
    let narrowed = list(&app, "q=wireless&category=audio&min_price=10000").await;
    assert_eq!(narrowed["total"], 1);
    assert_eq!(narrowed["items"][0]["name"], "Wireless headphones");
    assert_eq!(
        narrowed["facets"]["categories"],
        json!([
            {"slug": "audio", "name": "Audio", "count": 1},
            {"slug": "electronics", "name": "Electronics", "count": 1},
        ])
    );
    assert_eq!(
        narrowed["facets"]["price_bands"],
        json!([
            {"min": 5000, "max": 9999, "count": 1},
            {"min": 10000, "max": 24999, "count": 1},
        ])
    );
    let nothing = list(&app, "q=zzzz").await;
    assert_eq!(nothing["total"], 0);
    assert_eq!(
        nothing["facets"],
        json!({"categories": [], "price_bands": []})
    );
}

#[tokio::test]
async fn bad_list_parameters_are_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("sort=cheapest", "sort"),
        ("sort=", "sort"),
        ("min_price=-1", "min_price"),
        ("min_price=1.5", "min_price"),
        ("max_price=ten", "max_price"),
        ("min_price=500&max_price=100", "max_price"),
        ("category=Not%20A%20Slug", "category"),
    ] {
        for path in [PRODUCTS, SEARCH] {
            let response = app.get(&format!("{path}?{query}"), None).await;
            assert_eq!(response.status, 400, "{path}?{query}: {}", response.text());
            assert_eq!(response.error_code(), "validation_error", "{query}");
            assert_eq!(response.error_field(), field, "{query}");
        }
    }
    let long = format!("{PRODUCTS}?q={}", "x".repeat(201));
    let response = app.get(&long, None).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_field(), "q");
}
