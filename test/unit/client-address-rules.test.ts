import { describe, expect, it, vi } from "vitest";
import { addressBucket, parseTrustedProxies, resolveClientAddress, resolveProtocol } from "@/server/auth/client-address-rules";

vi.mock("server-only", () => ({}));

describe("trusted proxies", () => {
  it("takes addresses and CIDR ranges, and refuses anything else by name", () => {
    const list = parseTrustedProxies("127.0.0.1, 10.0.0.0/8 ::1 fd00::/8");
    expect(["127.0.0.1", "10.200.0.1"].map((a) => list.check(a, "ipv4"))).toEqual([true, true]);
    expect(["::1", "fd12::1", "fe80::1"].map((a) => list.check(a, "ipv6"))).toEqual([true, true, false]);
    expect(list.check("127.0.0.2", "ipv4")).toBe(false);
    expect(() => parseTrustedProxies("10.0.0.0/33")).toThrow('"10.0.0.0/33" is not an address or a CIDR range');
    expect(() => parseTrustedProxies("proxy.example")).toThrow("proxy.example");
    expect(parseTrustedProxies(undefined).check("127.0.0.1", "ipv4")).toBe(false);
  });

  it("a forwarded address is read only when the peer is trusted, from the right, past trusted hops", () => {
    const trusted = parseTrustedProxies("127.0.0.1, 10.0.0.0/8");
    const resolve = (peer: string | null, forwardedFor: string | null) => resolveClientAddress({ peer, forwardedFor, trusted });
    expect(resolve("192.0.2.1", "203.0.113.9")).toBe("192.0.2.1");
    expect(resolve("127.0.0.1", "203.0.113.9")).toBe("203.0.113.9");
    expect(resolve("::ffff:127.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.5")).toBe("203.0.113.9");
    expect(resolve("127.0.0.1", "not-an-address")).toBe("127.0.0.1");
    expect(resolve("127.0.0.1", null)).toBe("127.0.0.1");
    expect(resolve(null, "203.0.113.9")).toBe("unknown");
    expect(resolveClientAddress({ peer: "127.0.0.1", forwardedFor: "203.0.113.9", trusted: parseTrustedProxies("") })).toBe("127.0.0.1");
  });
});

describe("address buckets", () => {
  it("are an IPv4 address itself and an IPv6 address's /64", () => {
    expect(addressBucket("192.0.2.1")).toBe("192.0.2.1");
    expect(addressBucket("2001:db8:1:2::abcd")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("unknown")).toBe("unknown");
  });
});

describe("password check slots", () => {
  it("let at most two checks run at once, and every one runs", async () => {
    const { withPasswordCheckSlot, MAX_PARALLEL_PASSWORD_CHECKS } = await import("@/server/auth/password-check-slots");
    let running = 0;
    let most = 0;
    const check = async (i: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return i;
    };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => withPasswordCheckSlot(() => check(i))));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(most).toBe(MAX_PARALLEL_PASSWORD_CHECKS);
  });
});

describe("the client's protocol", () => {
  it("is the connection's own, unless a trusted proxy's right-most X-Forwarded-Proto says otherwise", () => {
    const trusted = parseTrustedProxies("127.0.0.1");
    const resolve = (peer: string | null, peerProtocol: string | null, forwardedProto: string | null) =>
      resolveProtocol({ peer, peerProtocol, forwardedProto, trusted });
    // A client speaking plain http directly cannot claim https, nor an https client claim http.
    expect(resolve("192.0.2.1", "http", "https")).toBe("http");
    expect(resolve("192.0.2.1", "https", "http")).toBe("https");
    // Through a trusted proxy: what the nearest proxy appended, not what the client wrote to its left.
    expect(resolve("127.0.0.1", "http", "https")).toBe("https");
    expect(resolve("::ffff:127.0.0.1", "http", "http, HTTPS")).toBe("https");
    expect(resolve("127.0.0.1", "http", "https, http")).toBe("http");
    expect(resolve("127.0.0.1", "http", null)).toBe("http");
    // Without Canopy's web server in front, nothing forwarded is believed.
    expect(resolve(null, null, "https")).toBe("http");
  });
});
