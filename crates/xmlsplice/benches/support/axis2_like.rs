//! Inputs shaped like a shipped axis2.xml, and the edits a clustering change
//! makes: shared by the engine bench and examples/throughput.rs.
#![allow(dead_code)] // each user takes what it needs

use xmlsplice::{Document, NewElement};

/// A block shaped like a shipped axis2.xml: 58% of its bytes are comments,
/// with 5.9 elements and 9.2 attributes per KB (kernel 4.4.40's axis2.xml:
/// 64% comments, 6.8 elements and 10.5 attributes per KB).
pub const SHIPPED_MIX: &str = "\r\n    <!-- ================================================= -->\r\n    <!-- Transport Ins (Listeners)                         -->\r\n    <!-- ================================================= -->\r\n    <!--\r\n       The listener below receives plain HTTP requests. Its port is the\r\n       servlet container's own port; the proxy port, when set, is the port\r\n       clients see in front of a load balancer. Every port here moves with\r\n       the server's port offset, so two nodes on one host need different\r\n       offsets before they can both start.\r\n    -->\r\n    <transportReceiver name=\"http\" class=\"org.example.transport.http.AxisServletListener\">\r\n        <parameter name=\"port\" locked=\"false\">9763</parameter>\r\n        <!--<parameter name=\"proxyPort\">80</parameter>-->\r\n    </transportReceiver>\r\n    <!--\r\n       Message receivers decide how a message exchange pattern is served:\r\n       in-only operations return nothing, in-out ones answer on the same\r\n       connection. Both hand the raw payload to the service.\r\n    -->\r\n    <messageReceivers>\r\n        <messageReceiver mep=\"http://www.w3.org/ns/wsdl/in-only\" class=\"org.example.RawInOnly\"/>\r\n        <messageReceiver mep=\"http://www.w3.org/ns/wsdl/in-out\" class=\"org.example.RawInOut\"/>\r\n    </messageReceivers>\r\n    <!-- The phases a message passes through on its way in; order matters. -->\r\n    <phaseOrder type=\"InFlow\">\r\n        <phase name=\"Transport\" class=\"org.example.Phase\"/>\r\n        <phase name=\"Security\" class=\"org.example.Phase\"/>\r\n    </phaseOrder>\r\n";

pub const DENSE: &str = "\r\n    <!-- ================================================= -->\r\n    <!-- Transport Ins (Listeners)                         -->\r\n    <!-- ================================================= -->\r\n    <transportReceiver name=\"http\"\r\n                       class=\"org.example.transport.http.AxisServletListener\">\r\n        <parameter name=\"port\">9763</parameter>\r\n        <!--<parameter name=\"proxyPort\">80</parameter>-->\r\n    </transportReceiver>\r\n    <messageReceivers>\r\n        <messageReceiver mep=\"http://www.w3.org/ns/wsdl/in-only\"\r\n                         class=\"org.example.receivers.RawXMLINOnlyMessageReceiver\"/>\r\n        <messageReceiver mep=\"http://www.w3.org/ns/wsdl/in-out\"\r\n                         class=\"org.example.receivers.RawXMLINOutMessageReceiver\"/>\r\n    </messageReceivers>\r\n    <phaseOrder type=\"InFlow\">\r\n        <phase name=\"Transport\">\r\n            <handler name=\"RequestURIBasedDispatcher\"\r\n                     class=\"org.example.dispatchers.RequestURIBasedDispatcher\">\r\n                <order phase=\"Transport\"/>\r\n            </handler>\r\n        </phase>\r\n        <phase name=\"Security\"/>\r\n    </phaseOrder>\r\n    <parameter name=\"ServiceGroupContextIdleTime\">30000</parameter>\r\n\t<parameter name=\"enableMTOM\" locked=\"false\">false</parameter>\r\n";

pub fn axis2_like(filler: &str, target: usize) -> Vec<u8> {
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/xml/axis2-crlf.xml"
    ))
    .expect("fixtures/xml/axis2-crlf.xml");
    let text = String::from_utf8(fixture).unwrap();
    let split = text.find("    <clustering").unwrap();
    let (head, tail) = text.split_at(split);
    let mut out = String::with_capacity(target + text.len());
    out.push_str(head);
    while out.len() + tail.len() < target {
        out.push_str(filler);
    }
    out.push_str(tail);
    out.into_bytes()
}

pub fn five_edits(doc: &mut Document) {
    let clustering = doc.select_one("clustering").unwrap();
    doc.set_attribute(clustering, "enable", "true").unwrap();
    let param = |doc: &Document, name: &str| {
        doc.select_one((clustering, &format!("parameter[@name='{name}']")))
            .unwrap()
    };
    let scheme = param(doc, "membershipScheme");
    doc.set_text(scheme, "wka").unwrap();
    let host = param(doc, "localMemberHost");
    doc.set_text(host, "10.0.0.1").unwrap();
    let members = doc.select_one((clustering, "members")).unwrap();
    let mut wanted = NewElement::new("members");
    for host in ["10.0.0.1", "10.0.0.2"] {
        wanted = wanted.child(
            NewElement::new("member")
                .text_child("hostName", host)
                .text_child("port", "4000"),
        );
    }
    doc.replace(members, wanted).unwrap();
    let address = doc
        .select_commented((clustering, "parameter[@name='mcastAddress']"))
        .unwrap();
    doc.uncomment(&address[0]).unwrap();
}
