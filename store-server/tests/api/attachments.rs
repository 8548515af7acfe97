//! Attachments: uploads streamed into GridFS within their limits (and
//! nothing left behind when refused), types from the bytes, thumbnails and
//! the decompression bomb, downloads whole and by range, messages that
//! carry them (each attachment once, even through two instances racing),
//! deletes, and the sweep.

use crate::helpers::{TestApp, expect_error, parse, send, spawn_app, spawn_app_with, unique};
use bytes::Bytes;
use chat_wire::attachments::Attachment;
use chat_wire::model::Message;
use image::codecs::png::PngEncoder;
use image::{ImageBuffer, Rgb};
use mongodb::bson::{DateTime, Document, doc};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use store_server::attachments::sweep;

/// A PNG of `width` × `height` pixels.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 7]))
        .write_with_encoder(PngEncoder::new(&mut bytes))
        .unwrap();
    bytes
}

/// A PNG header claiming 100,000 × 100,000 pixels, then the start of its
/// compressed data.
fn png_bomb() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = 100_000u32.to_be_bytes().to_vec();
    header.extend(100_000u32.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    for (kind, data) in [(&b"IHDR"[..], header), (&b"IDAT"[..], vec![0x78, 0x9c])] {
        bytes.extend((data.len() as u32).to_be_bytes());
        bytes.extend(kind);
        bytes.extend(&data);
        let mut covered = kind.to_vec();
        covered.extend(&data);
        bytes.extend(crc32(&covered).to_be_bytes());
    }
    bytes
}

/// The CRC-32 of a PNG chunk.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `len` bytes of a fixed pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

impl TestApp {
    /// `POST /attachment` of `bytes` to `group` by `uploader`, whatever the answer.
    async fn upload(
        &self,
        group: &str,
        uploader: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        self.upload_with(group, uploader, name, bytes, "").await
    }

    async fn upload_with(
        &self,
        group: &str,
        uploader: &str,
        name: &str,
        bytes: Vec<u8>,
        extra: &str,
    ) -> reqwest::Response {
        let path = format!("/attachment?group={group}&uploader={uploader}&name={name}{extra}");
        send(
            self.authed(Method::POST, &path)
                .header("content-type", "image/png")
                .body(bytes),
        )
        .await
    }

    /// Uploads and returns the attachment (asserting `201`).
    async fn uploaded(
        &self,
        group: &str,
        uploader: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Attachment {
        parse(
            self.upload(group, uploader, name, bytes).await,
            StatusCode::CREATED,
        )
        .await
    }

    /// How many documents the attachments' collections hold: metadata,
    /// GridFS files, GridFS chunks.
    async fn stored_files(&self) -> (u64, u64, u64) {
        let db = self.store().database();
        let count = |name: &'static str| async move {
            db.collection::<Document>(name)
                .count_documents(doc! {})
                .await
                .unwrap()
        };
        (
            count("attachments").await,
            count("attachments.files").await,
            count("attachments.chunks").await,
        )
    }
}

#[tokio::test]
async fn a_file_is_stored_and_served_whole_and_by_range_with_its_sniffed_type() {
    let app = spawn_app().await;
    let group = app.create_group("files", &["up1"], &[]).await;
    let bytes = pattern(700_000); // three GridFS chunks
    let file = app
        .uploaded(group.id.as_str(), "up1", "data.bin", bytes.clone())
        .await;
    assert_eq!((file.name.as_str(), file.size), ("data.bin", 700_000));
    assert_eq!(
        file.content_type, "application/octet-stream",
        "not the client's image/png"
    );
    assert!(file.thumbnail.is_none() && file.width.is_none());

    let path = format!("/attachment/{}", file.id);
    let whole = app.get(&path).await;
    assert_eq!(whole.status(), StatusCode::OK);
    let headers = whole.headers().clone();
    assert_eq!(headers["content-length"], "700000");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(whole.bytes().await.unwrap(), Bytes::from(bytes.clone()));

    // A range across a chunk boundary, a suffix, and one past the end.
    let range = |value: &str| {
        app.authed(Method::GET, &path)
            .header("range", value.to_owned())
    };
    let part = send(range("bytes=261000-262000")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        "bytes 261000-262000/700000"
    );
    assert_eq!(
        part.bytes().await.unwrap(),
        Bytes::from(bytes[261_000..=262_000].to_vec())
    );
    let tail = send(range("bytes=-10")).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.bytes().await.unwrap(),
        Bytes::from(bytes[699_990..].to_vec())
    );
    let past = send(range("bytes=700000-")).await;
    assert_eq!(past.headers()["content-range"], "bytes */700000");
    expect_error(past, 416, "invalid_argument").await;

    let etag = headers["etag"].to_str().unwrap().to_owned();
    let cached = send(app.authed(Method::GET, &path).header("if-none-match", etag)).await;
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let meta: Attachment = parse(app.get(&format!("{path}/metadata")).await, StatusCode::OK).await;
    assert_eq!(meta, file);
    expect_error(
        app.get(&format!("{path}/thumbnail")).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_image_gets_its_size_and_a_thumbnail_and_html_named_png_is_a_download() {
    let app = spawn_app().await;
    let group = app.create_group("images", &["up1"], &[]).await;
    let image = app
        .uploaded(group.id.as_str(), "up1", "cat.png", png(800, 400))
        .await;
    assert_eq!(image.content_type, "image/png");
    assert_eq!((image.width, image.height), (Some(800), Some(400)));
    let thumbnail = image.thumbnail.clone().unwrap();
    assert_eq!((thumbnail.width, thumbnail.height), (320, 160));
    let served = app.get(&format!("/attachment/{}", image.id)).await;
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(
        served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let small = app
        .get(&format!("/attachment/{}/thumbnail", image.id))
        .await;
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(small.headers()["content-type"], "image/jpeg");
    let small = small.bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&small).unwrap().width(), 320);

    let page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let html = app
        .uploaded(group.id.as_str(), "up1", "innocent.png", page.to_vec())
        .await;
    assert_eq!(html.content_type, "text/html");
    assert!(html.thumbnail.is_none());
    let served = app.get(&format!("/attachment/{}", html.id)).await;
    assert_eq!(served.headers()["content-type"], "text/html");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let disposition = served.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
}

#[tokio::test]
async fn a_png_claiming_100000_by_100000_pixels_is_refused_and_nothing_stays() {
    let app = spawn_app().await;
    let group = app.create_group("bombs", &["up1"], &[]).await;
    let refused = app
        .upload(group.id.as_str(), "up1", "bomb.png", png_bomb())
        .await;
    let message = expect_error(refused, 413, "payload_too_large").await;
    assert!(message.contains("too large"), "{message}");
    assert_eq!(app.stored_files().await, (0, 0, 0));
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_early_or_as_it_passes_it_and_nothing_stays() {
    let app = spawn_app_with(|config| config.max_attachment_bytes = 300_000).await;
    let group = app.create_group("limits", &["up1"], &[]).await;
    // Declared: refused before a byte is read.
    let declared = send(
        app.authed(
            Method::POST,
            &format!("/attachment?group={}&uploader=up1", group.id),
        )
        .header("content-length", (2u64 << 30).to_string())
        .body(reqwest::Body::wrap_stream(futures::stream::pending::<
            Result<Bytes, std::io::Error>,
        >())),
    );
    let declared = tokio::time::timeout(Duration::from_secs(10), declared)
        .await
        .expect("answered without reading the body");
    expect_error(declared, 413, "payload_too_large").await;
    // Streamed without a length: refused once past the limit.
    let chunks = futures::stream::iter(
        (0..20).map(|_| Ok::<_, std::io::Error>(Bytes::from(pattern(64 * 1024)))),
    );
    let streamed = send(
        app.authed(
            Method::POST,
            &format!("/attachment?group={}&uploader=up1", group.id),
        )
        .body(reqwest::Body::wrap_stream(chunks)),
    )
    .await;
    expect_error(streamed, 413, "payload_too_large").await;
    // A caller's own lower limit.
    let small = app
        .upload_with(
            group.id.as_str(),
            "up1",
            "x",
            pattern(2000),
            "&maxBytes=1000",
        )
        .await;
    expect_error(small, 413, "payload_too_large").await;
    assert_eq!(app.stored_files().await, (0, 0, 0));
    app.uploaded(group.id.as_str(), "up1", "fits", pattern(300_000))
        .await;
}

#[tokio::test]
async fn the_quota_counts_what_the_uploader_keeps() {
    let app = spawn_app_with(|config| config.attachment_quota_bytes = 250_000).await;
    let group = app.create_group("quota", &["up1", "up2"], &[]).await;
    app.uploaded(group.id.as_str(), "up1", "a", pattern(200_000))
        .await;
    let over = app
        .upload(group.id.as_str(), "up1", "b", pattern(60_000))
        .await;
    let message = expect_error(over, 413, "payload_too_large").await;
    assert!(message.contains("250000"), "{message}");
    app.uploaded(group.id.as_str(), "up2", "c", pattern(60_000))
        .await;
    assert_eq!(app.stored_files().await.0, 2);
}

#[tokio::test]
async fn only_members_upload_and_a_reader_named_must_be_a_member() {
    let app = spawn_app().await;
    let group = app.create_group("members", &["up1"], &[]).await;
    let outsider = app.upload(group.id.as_str(), "up9", "x", pattern(10)).await;
    expect_error(outsider, 403, "permission_denied").await;
    let file = app
        .uploaded(group.id.as_str(), "up1", "x", pattern(10))
        .await;
    let path = format!("/attachment/{}", file.id);
    assert_eq!(
        app.get(&format!("{path}?up=up1")).await.status(),
        StatusCode::OK
    );
    expect_error(
        app.get(&format!("{path}?up=up9")).await,
        403,
        "permission_denied",
    )
    .await;
    app.delete(&format!("/group/{}/users/up1", group.id)).await;
    expect_error(
        app.get(&format!("{path}?up=up1")).await,
        403,
        "permission_denied",
    )
    .await;
    expect_error(app.get("/attachment/nothex").await, 400, "invalid_argument").await;
    let unknown = format!("/attachment/{}", crate::helpers::unknown_id());
    expect_error(app.get(&unknown).await, 404, "not_found").await;
}

async fn post_with_files(
    app: &TestApp,
    group: &str,
    from: &str,
    text: &str,
    files: &[&str],
    nonce: &str,
) -> reqwest::Response {
    app.post_json(
        "/message",
        &json!({"group": group, "from": from, "message": text, "attachments": files, "nonce": nonce}),
    )
    .await
}

#[tokio::test]
async fn a_message_carries_its_attachments_once_and_deleting_it_erases_them() {
    let app = spawn_app().await;
    let group = app.create_group("talk", &["up1", "up2"], &[]).await;
    let g = group.id.as_str();
    let image = app.uploaded(g, "up1", "cat.png", png(40, 30)).await;
    let doc = app
        .uploaded(g, "up1", "notes.txt", b"some notes".to_vec())
        .await;
    let response = post_with_files(
        &app,
        g,
        "up1",
        " ",
        &[image.id.as_str(), doc.id.as_str()],
        "n1",
    )
    .await;
    let message: Message = parse(response, StatusCode::CREATED).await;
    assert_eq!(message.message, "");
    assert_eq!(message.attachments, vec![image.clone(), doc.clone()]);
    // The same nonce again: the same message, nothing claimed twice.
    let again = post_with_files(
        &app,
        g,
        "up1",
        " ",
        &[image.id.as_str(), doc.id.as_str()],
        "n1",
    )
    .await;
    let again: Message = parse(again, StatusCode::OK).await;
    assert_eq!(again.id, message.id);
    let page = app.messages(g, "").await;
    assert_eq!(page.items[0].attachments, message.attachments);

    let reused = post_with_files(&app, g, "up1", "again", &[image.id.as_str()], "n2").await;
    expect_error(reused, 409, "already_exists").await;
    let theirs = app.uploaded(g, "up2", "theirs", pattern(5)).await;
    let stolen = post_with_files(&app, g, "up1", "mine now", &[theirs.id.as_str()], "n3").await;
    expect_error(stolen, 403, "permission_denied").await;
    let unknown = crate::helpers::unknown_id();
    expect_error(
        post_with_files(&app, g, "up1", "x", &[&unknown], "n4").await,
        404,
        "not_found",
    )
    .await;
    let eleven: Vec<String> = (0..11).map(|_| crate::helpers::unknown_id()).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    expect_error(
        post_with_files(&app, g, "up1", "x", &eleven, "n5").await,
        400,
        "invalid_argument",
    )
    .await;
    // A refused message gave its attachment back: another may take it.
    let other = app.create_group("elsewhere", &["up1"], &[]).await;
    let free = app.uploaded(g, "up1", "free", pattern(5)).await;
    let wrong_group = post_with_files(
        &app,
        other.id.as_str(),
        "up1",
        "x",
        &[free.id.as_str()],
        "n6",
    )
    .await;
    expect_error(wrong_group, 403, "permission_denied").await;
    let taken = post_with_files(&app, g, "up1", "", &[free.id.as_str()], "n7").await;
    assert_eq!(taken.status(), StatusCode::CREATED);

    let deleted = app
        .delete(&format!("/message/{}?from=up1", message.id))
        .await;
    let deleted: Message = parse(deleted, StatusCode::OK).await;
    assert!(deleted.deleted && deleted.attachments.is_empty());
    for file in [&image, &doc] {
        let gone = app.get(&format!("/attachment/{}", file.id)).await;
        expect_error(gone, 404, "not_found").await;
    }
    let chunks = app
        .store()
        .database()
        .collection::<Document>("attachments.chunks");
    for id in [image.id.as_str(), doc.id.as_str()] {
        let id = mongodb::bson::oid::ObjectId::parse_str(id).unwrap();
        assert_eq!(
            chunks.count_documents(doc! {"files_id": id}).await.unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn two_messages_racing_for_one_attachment_through_two_instances_get_it_once() {
    let database = unique("race");
    let first = spawn_app_with(|config| config.mongodb_db = database.clone()).await;
    let second = spawn_app_with(|config| config.mongodb_db = database.clone()).await;
    let group = first.create_group("race", &["up1"], &[]).await;
    let g = group.id.as_str();
    for round in 0..5 {
        let file = first.uploaded(g, "up1", "once", pattern(10)).await;
        let ids = [file.id.as_str()];
        let (nonce_a, nonce_b) = (format!("a{round}"), format!("b{round}"));
        let (a, b) = tokio::join!(
            post_with_files(&first, g, "up1", "a", &ids, &nonce_a),
            post_with_files(&second, g, "up1", "b", &ids, &nonce_b),
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        let created = statuses.iter().filter(|s| **s == 201).count();
        assert!(created <= 1, "round {round}: {statuses:?}");
        assert!(
            statuses.iter().all(|s| [201, 409].contains(s)),
            "round {round}: {statuses:?}"
        );
    }
    let stored = first.messages(g, "perPage=100").await;
    let mut carried: Vec<String> = stored
        .items
        .iter()
        .flat_map(|m| m.attachments.iter().map(|a| a.id.to_string()))
        .collect();
    let total = carried.len();
    carried.dedup();
    assert_eq!(carried.len(), total, "no attachment in two messages");
}

#[tokio::test]
async fn the_sweep_removes_what_no_message_took_within_an_hour_and_keeps_the_rest() {
    let app = spawn_app().await;
    let group = app.create_group("sweep", &["up1"], &[]).await;
    let g = group.id.as_str();
    let unused = app.uploaded(g, "up1", "unused.png", png(50, 50)).await;
    let used = app.uploaded(g, "up1", "used", pattern(10)).await;
    post_with_files(&app, g, "up1", "", &[used.id.as_str()], "s1").await;
    let now = DateTime::now();
    assert_eq!(
        sweep::sweep(app.store(), now).await.unwrap().removed,
        0,
        "too young"
    );
    let later = DateTime::from_millis(now.timestamp_millis() + 2 * 3600 * 1000);
    // Two sweeps at once, as two store instances may run them.
    let (one, two) = tokio::join!(
        sweep::sweep(app.store(), later),
        sweep::sweep(app.store(), later)
    );
    assert_eq!(one.unwrap().removed + two.unwrap().removed, 1);
    expect_error(
        app.get(&format!("/attachment/{}", unused.id)).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get(&format!("/attachment/{}", used.id)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.stored_files().await.0, 1);
    assert_eq!(
        app.stored_files().await.1,
        1,
        "the thumbnail went with its image"
    );
}

#[tokio::test]
async fn removing_an_attachment_deletes_its_bytes() {
    let app = spawn_app().await;
    let group = app.create_group("remove", &["up1"], &[]).await;
    let file = app
        .uploaded(group.id.as_str(), "up1", "x.png", png(10, 10))
        .await;
    let removed = app.delete(&format!("/attachment/{}", file.id)).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.stored_files().await, (0, 0, 0));
    expect_error(
        app.delete(&format!("/attachment/{}", file.id)).await,
        404,
        "not_found",
    )
    .await;
}
