import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv } from "vite";

// A static build served from the API's origin (the local stack or CloudFront): the API lives under /v1.
// `npm run dev` proxies /v1 to a running `make run` stack so the dev server is same-origin too.
export default defineConfig(({ mode }) => ({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, assetsInlineLimit: 0 },
  server: { proxy: { "/v1": loadEnv(mode, ".", "NARRAFORGE_").NARRAFORGE_API ?? "http://127.0.0.1:8000" } },
}));
