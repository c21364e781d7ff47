import { describe, expect, it } from "vitest";
import { loginPath, safeReturnPath } from "@/server/auth/shared";

// Where the login page sends someone after logging in comes from the URL (?next=...), i.e. from whoever made
// the link. Each value below left the site once, or would in some browser; none may come back as anything
// that a browser resolves to another origin.
const SITE = "https://canopy.example";

const HOSTILE = [
  "/\t/evil.example/phish", // the reported one: the tab is dropped, leaving "//evil.example"
  "/\n/evil.example",
  "/\r\n/evil.example",
  "/ /evil.example",
  "/\u00a0/evil.example",
  "/\u200b/evil.example",
  "//evil.example",
  "///evil.example",
  "/\\evil.example",
  "/\\/evil.example",
  "\\\\evil.example",
  "/.//evil.example", // parses to the path "//evil.example"
  "/..//evil.example",
  "/%2e%2e//evil.example",
  "https://evil.example/",
  "javascript:alert(1)",
  "evil.example",
  " /jobs",
  "",
];

describe("the return path after logging in", () => {
  it.each(HOSTILE)("refuses %j or keeps it on the site", (value) => {
    const path = safeReturnPath(value);
    if (path !== null) {
      expect(new URL(path, SITE).origin).toBe(SITE);
      expect(path.startsWith("/") && !path.startsWith("//")).toBe(true);
    }
  });

  it("refuses the reported value and the ones that only differ in the character dropped", () => {
    expect(safeReturnPath("/\t/evil.example/phish")).toBeNull();
    expect(safeReturnPath("/.//evil.example")).toBeNull();
    expect(safeReturnPath("/\\evil.example")).toBeNull();
    expect(safeReturnPath("/%2e%2e//evil.example")).toBeNull();
  });

  it("keeps the site's own pages, with their queries, and not the login page itself", () => {
    expect(safeReturnPath("/jobs")).toBe("/jobs");
    expect(safeReturnPath("/disks/vm-1?layer=1A#details")).toBe("/disks/vm-1?layer=1A#details");
    expect(safeReturnPath("/disks/vm%201")).toBe("/disks/vm%201");
    expect(safeReturnPath("/login?next=/jobs")).toBeNull();
    expect(loginPath("/\t/evil.example")).toBe("/login");
    expect(loginPath("/jobs?x=1")).toBe("/login?next=%2Fjobs%3Fx%3D1");
  });
});
