//! Large answers cut into messages of bounded size, for the streaming RPCs
//! (`ListCallsStream`, `ExportCallsStream`, `PreviewAlertsStream`): a whole
//! instance's calls or reminders never travel as one message over the gRPC
//! size limit, and the client writes rows as they arrive.

/// Target size of one streamed message (encoded), well under gRPC's 4 MiB default.
pub const MESSAGE_BYTES: usize = 1024 * 1024;

/// Cuts `items` into consecutive groups whose encoded sizes add up to at most
/// `max_bytes` (a single larger item gets a group of its own). Always at
/// least one group, empty for no item, so the client gets one answer.
pub fn by_size<T: prost::Message>(items: Vec<T>, max_bytes: usize) -> Vec<Vec<T>> {
    let mut groups = vec![Vec::new()];
    let mut size = 0;
    for item in items {
        // The repeated field's tag and length prefix: at most 6 bytes more.
        let len = item.encoded_len() + 6;
        let current = groups.last().map_or(0, Vec::len);
        if current > 0 && size + len > max_bytes {
            groups.push(Vec::new());
            size = 0;
        }
        size += len;
        if let Some(group) = groups.last_mut() {
            group.push(item);
        }
    }
    groups
}

/// Cuts a CSV file into consecutive chunks of at most `max_bytes`, each
/// ending after a line end when the file has one in reach (a cell holding a
/// line end may be cut: the chunks are concatenated, never parsed alone).
/// Always at least one chunk.
pub fn csv_chunks(mut bytes: Vec<u8>, max_bytes: usize) -> Vec<Vec<u8>> {
    let max_bytes = max_bytes.max(1);
    let mut chunks = Vec::new();
    while bytes.len() > max_bytes {
        let cut = bytes[..max_bytes]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(max_bytes, |i| i + 1);
        let rest = bytes.split_off(cut);
        chunks.push(std::mem::replace(&mut bytes, rest));
    }
    chunks.push(bytes);
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;
    use vigie_proto::alerting::v1 as pb;

    fn call(n: usize) -> pb::Call {
        pb::Call {
            call_id: format!("c{n}"),
            title: "x".repeat(n % 300),
            ..Default::default()
        }
    }

    #[test]
    fn groups_keep_every_item_in_order_and_stay_under_the_size() {
        let calls: Vec<pb::Call> = (0..4000).map(call).collect();
        let groups = by_size(calls.clone(), 64 * 1024);
        assert!(groups.len() > 1);
        for group in &groups {
            let message = pb::ListCallsResponse { calls: group.clone() };
            assert!(message.encoded_len() <= 64 * 1024, "{}", message.encoded_len());
            assert!(!group.is_empty());
        }
        assert_eq!(groups.concat(), calls);
    }

    #[test]
    fn no_item_is_one_empty_group_and_a_huge_item_is_alone() {
        assert_eq!(by_size(Vec::<pb::Call>::new(), 10), vec![Vec::<pb::Call>::new()]);
        let groups = by_size(vec![call(1), call(299), call(2)], 100);
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    }

    #[test]
    fn csv_chunks_cut_after_line_ends_and_concatenate_to_the_file() {
        let csv: Vec<u8> = (0..5000)
            .flat_map(|n| format!("{n},\"a;b\",x\n").into_bytes())
            .collect();
        let chunks = csv_chunks(csv.clone(), 1000);
        assert!(chunks.len() > 40);
        assert!(chunks.iter().all(|c| c.len() <= 1000 && c.ends_with(b"\n")));
        assert_eq!(chunks.concat(), csv);
        assert_eq!(csv_chunks(Vec::new(), 10), vec![Vec::<u8>::new()]);
        // A line longer than a chunk is cut where it must.
        let long = vec![b'a'; 25];
        let chunks = csv_chunks(long.clone(), 10);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
        assert_eq!(chunks.concat(), long);
    }
}
