// Stylesheets are bundled by esbuild into the page's one hashed .css file.
declare module "*.css";
