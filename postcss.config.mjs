// Tailwind 4 runs as a PostCSS plugin; there is no tailwind.config file (theme tweaks live in app/globals.css).
export default {
  plugins: { "@tailwindcss/postcss": {} },
};
