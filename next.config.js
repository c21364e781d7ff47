// Next reads this file as ESM because package.json has "type": "module".

/**
 * Sent with every response. The CSP only says what needs no script policy: no page of Canopy may be framed
 * (clickjacking the layer actions), no <base> or <object>, forms post only here. A script-src would need a
 * nonce on each of Next's inline scripts, so it is left out; X-Frame-Options repeats frame-ancestors for old
 * browsers.
 */
const SECURITY_HEADERS = [
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
];

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  async headers() {
    return [{ source: "/:path*", headers: SECURITY_HEADERS }];
  },
  // Native addons and database drivers must stay plain Node requires: bundling them breaks their .node
  // binaries and wasm files. Prisma's runtime and adapters are listed so the generated client in
  // server/generated loads them from node_modules too.
  serverExternalPackages: [
    "better-sqlite3",
    "@prisma/adapter-better-sqlite3",
    "pg",
    "@prisma/adapter-pg",
    "@prisma/client",
    "@prisma/driver-adapter-utils",
    "@prisma/schema-engine-wasm",
  ],
};

export default nextConfig;
