// Next reads this file as ESM because package.json has "type": "module".

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
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
