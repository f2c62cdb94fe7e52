//! A minimal HTTP/1.1 stand-in server for tests: one request per connection, answered and
//! closed. It reads what the clients under test send (a request line, headers, a body of
//! `Content-Length` bytes) and answers with whatever the test decides. Sizes are capped so a
//! client gone wrong fails the test instead of filling memory.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// The largest request line or header line read.
const MAX_LINE: u64 = 64 * 1024;
/// The most header lines read.
const MAX_HEADERS: usize = 200;
/// The largest body read.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request as the stand-in read it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The request line without its line end, e.g. `POST /ttype/push HTTP/1.1`.
    pub line: String,
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/container/challenge`.
    pub path: String,
    /// The header lines without their line ends, in order, as sent.
    pub headers: Vec<String>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl Request {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// A reply: status, content type, body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    /// `200 OK` with a JSON body.
    pub fn json(body: impl ToString) -> Self {
        Self::status_json(200, body)
    }

    /// `status` with a JSON body.
    pub fn status_json(status: u16, body: impl ToString) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: body.to_string().into_bytes(),
        }
    }
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    reader.take(MAX_LINE).read_line(&mut line)?;
    Ok(line)
}

/// Reads one request from `stream`.
pub fn read_request(stream: &TcpStream) -> io::Result<Request> {
    let mut reader = BufReader::new(stream);
    let line = read_line(&mut reader)?.trim_end().to_owned();
    let mut parts = line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let header = read_line(&mut reader)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(io::Error::other("too many header lines"));
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(io::Error::other)?;
        }
        headers.push(header.to_owned());
    }
    if length > MAX_BODY {
        return Err(io::Error::other("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Request {
        line,
        method,
        path,
        headers,
        body,
    })
}

/// Writes `reply` to `stream` and says the connection closes.
pub fn write_reply(mut stream: &TcpStream, reply: &Reply) -> io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
    write!(
        stream,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    )?;
    stream.write_all(&reply.body)?;
    stream.flush()
}

/// Serves `listener` on a thread of its own until the test process ends: each connection's
/// request goes to `answer`, whose reply is written back. A connection that fails to read is
/// dropped unanswered.
pub fn serve<F>(listener: TcpListener, mut answer: F)
where
    F: FnMut(&Request) -> Reply + Send + 'static,
{
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(request) = read_request(&stream) else {
                continue;
            };
            let reply = answer(&request);
            let _ = write_reply(&stream, &reply);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_and_answered() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        serve(listener, |r| {
            Reply::json(format!(
                "{{\"path\":\"{}\",\"body\":\"{}\",\"type\":\"{}\"}}",
                r.path,
                r.text(),
                r.header("content-type").unwrap_or("")
            ))
        });
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            b"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(
            out.ends_with("{\"path\":\"/x?y=1\",\"body\":\"hello\",\"type\":\"text/plain\"}"),
            "{out}"
        );
    }

    #[test]
    fn an_oversized_body_is_refused_before_it_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            read_request(&stream).map(|_| ())
        });
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")
            .unwrap();
        let err = handle.join().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "body too large");
    }
}
