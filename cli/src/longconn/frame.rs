//! The long connection's frame: `pbbp2.Frame`, a proto2 message of nine fields (the
//! official SDKs' `ws/pbbp2.pb.go`, `lark_oapi/ws/pb/pbbp2_pb2.py`; research
//! ws-protocol.md §2), one per binary WebSocket message. Hand-written: the message is
//! tiny and fixed, and a codec of ~150 lines costs less than protoc or prost-build in
//! every cold build. Fields 1–4 are always written (they are `required`; the Go and
//! Node decoders drop a frame without them) and unknown fields are skipped.

/// `method`: control (ping/pong) or data (events, callbacks).
pub const CONTROL: i32 = 0;
pub const DATA: i32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub seq_id: u64,
    pub log_id: u64,
    pub service: i32,
    pub method: i32,
    pub headers: Vec<(String, String)>,
    pub payload_encoding: Option<String>,
    pub payload_type: Option<String>,
    pub payload: Option<Vec<u8>>,
    pub log_id_new: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("the frame ends inside a field")]
    Truncated,
    #[error("a varint longer than 10 bytes")]
    VarintTooLong,
    #[error("wire type {0} is not one protobuf has")]
    WireType(u64),
    #[error("required field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} is not UTF-8")]
    NotUtf8(&'static str),
}

impl Frame {
    /// The value of header `key`, if present.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.payload.as_ref().map_or(0, Vec::len));
        varint_field(&mut out, 1, self.seq_id);
        varint_field(&mut out, 2, self.log_id);
        // int32 is sign-extended to 64 bits on the wire.
        varint_field(&mut out, 3, i64::from(self.service) as u64);
        varint_field(&mut out, 4, i64::from(self.method) as u64);
        for (key, value) in &self.headers {
            let mut header = Vec::new();
            bytes_field(&mut header, 1, key.as_bytes());
            bytes_field(&mut header, 2, value.as_bytes());
            bytes_field(&mut out, 5, &header);
        }
        let optional = [
            (6, self.payload_encoding.as_deref().map(str::as_bytes)),
            (7, self.payload_type.as_deref().map(str::as_bytes)),
            (8, self.payload.as_deref()),
            (9, self.log_id_new.as_deref().map(str::as_bytes)),
        ];
        for (field, value) in optional {
            if let Some(v) = value {
                bytes_field(&mut out, field, v);
            }
        }
        out
    }

    pub fn decode(mut buf: &[u8]) -> Result<Self, FrameError> {
        let mut frame = Frame::default();
        let mut seen = [false; 4];
        while !buf.is_empty() {
            let key = varint(&mut buf)?;
            let (field, wire) = (key >> 3, key & 7);
            match (field, wire) {
                (1..=4, 0) => {
                    let v = varint(&mut buf)?;
                    seen[(field - 1) as usize] = true;
                    match field {
                        1 => frame.seq_id = v,
                        2 => frame.log_id = v,
                        3 => frame.service = v as i64 as i32,
                        _ => frame.method = v as i64 as i32,
                    }
                }
                (5, 2) => frame.headers.push(header(length_delimited(&mut buf)?)?),
                (6, 2) => {
                    frame.payload_encoding =
                        Some(text(length_delimited(&mut buf)?, "payload_encoding")?)
                }
                (7, 2) => {
                    frame.payload_type = Some(text(length_delimited(&mut buf)?, "payload_type")?)
                }
                (8, 2) => frame.payload = Some(length_delimited(&mut buf)?.to_vec()),
                (9, 2) => frame.log_id_new = Some(text(length_delimited(&mut buf)?, "LogIDNew")?),
                (_, wire) => skip(&mut buf, wire)?,
            }
        }
        for (i, name) in ["SeqID", "LogID", "service", "method"]
            .into_iter()
            .enumerate()
        {
            if !seen[i] {
                return Err(FrameError::Missing(name));
            }
        }
        Ok(frame)
    }
}

fn header(mut buf: &[u8]) -> Result<(String, String), FrameError> {
    let (mut key, mut value) = (None, None);
    while !buf.is_empty() {
        let tag = varint(&mut buf)?;
        match (tag >> 3, tag & 7) {
            (1, 2) => key = Some(text(length_delimited(&mut buf)?, "key")?),
            (2, 2) => value = Some(text(length_delimited(&mut buf)?, "value")?),
            (_, wire) => skip(&mut buf, wire)?,
        }
    }
    Ok((
        key.ok_or(FrameError::Missing("key"))?,
        value.ok_or(FrameError::Missing("value"))?,
    ))
}

fn text(bytes: &[u8], field: &'static str) -> Result<String, FrameError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| FrameError::NotUtf8(field))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    put_varint(out, field << 3);
    put_varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, v: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, v.len() as u64);
    out.extend_from_slice(v);
}

fn varint(buf: &mut &[u8]) -> Result<u64, FrameError> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first().ok_or(FrameError::Truncated)?;
        *buf = rest;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(FrameError::VarintTooLong)
}

fn length_delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], FrameError> {
    let len = usize::try_from(varint(buf)?).map_err(|_| FrameError::Truncated)?;
    if buf.len() < len {
        return Err(FrameError::Truncated);
    }
    let (value, rest) = buf.split_at(len);
    *buf = rest;
    Ok(value)
}

fn skip(buf: &mut &[u8], wire: u64) -> Result<(), FrameError> {
    let n = match wire {
        0 => return varint(buf).map(|_| ()),
        1 => 8,
        2 => return length_delimited(buf).map(|_| ()),
        5 => 4,
        other => return Err(FrameError::WireType(other)),
    };
    if buf.len() < n {
        return Err(FrameError::Truncated);
    }
    *buf = &buf[n..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_is_encoded_as_the_sdks_do_and_read_back() {
        let ping = Frame {
            service: 33_554_678,
            method: CONTROL,
            headers: vec![("type".into(), "ping".into())],
            ..Frame::default()
        };
        let bytes = ping.encode();
        // SeqID 0, LogID 0, service, method 0, one header: the Go SDK's NewPingFrame.
        assert_eq!(&bytes[..4], &[0x08, 0x00, 0x10, 0x00]);
        assert_eq!(Frame::decode(&bytes).unwrap(), ping);
    }

    #[test]
    fn required_fields_unknown_fields_and_negative_ints() {
        assert_eq!(
            Frame::decode(&[0x08, 0x01]),
            Err(FrameError::Missing("LogID"))
        );
        let frame = Frame {
            seq_id: u64::MAX,
            log_id: 7,
            service: -1,
            method: DATA,
            payload: Some(b"{}".to_vec()),
            ..Frame::default()
        };
        let mut bytes = frame.encode();
        // An unknown field 15 (varint) and 16 (bytes) are skipped.
        bytes.extend_from_slice(&[0x78, 0x05, 0x82, 0x01, 0x02, b'h', b'i']);
        assert_eq!(Frame::decode(&bytes).unwrap(), frame);
        assert_eq!(
            Frame::decode(&bytes[..bytes.len() - 1]),
            Err(FrameError::Truncated)
        );
    }
}
