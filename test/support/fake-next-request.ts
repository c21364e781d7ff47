/**
 * Stands in for `next/headers` outside Next, so server actions and auth helpers run as they would in a request:
 * tests set the request's cookies and headers here, and read back the cookies the code set. Use it with
 *
 *   vi.mock("next/headers", async () => (await import("../support/fake-next-request")).nextHeaders);
 *   vi.mock("next/navigation", async () => import("next/dist/client/components/navigation.react-server.js"));
 *
 * (the second because Next's bundler, not package exports, picks the server build of next/navigation: plain
 * resolution gets the browser one, which needs React's client half).
 */

export interface CookieWrite {
  name: string;
  value: string;
  options: Record<string, unknown>;
}

export const fakeRequest = {
  cookies: new Map<string, string>(),
  headers: new Headers(),
  /** Every cookies().set(...) of the current request, in order. */
  written: [] as CookieWrite[],
  /** A fresh request: no cookies, no headers, nothing written. */
  reset(init: { cookies?: Record<string, string>; headers?: Record<string, string> } = {}) {
    this.cookies = new Map(Object.entries(init.cookies ?? {}));
    this.headers = new Headers(init.headers);
    this.written = [];
  },
};

export const nextHeaders = {
  cookies: async () => ({
    get: (name: string) => {
      const value = fakeRequest.cookies.get(name);
      return value === undefined ? undefined : { name, value };
    },
    set: (name: string, value: string, options: Record<string, unknown> = {}) => {
      fakeRequest.written.push({ name, value, options });
      fakeRequest.cookies.set(name, value);
    },
    delete: (name: string) => {
      fakeRequest.written.push({ name, value: "", options: { maxAge: 0 } });
      fakeRequest.cookies.delete(name);
    },
  }),
  headers: async () => fakeRequest.headers,
};
