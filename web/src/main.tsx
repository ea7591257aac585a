/** Entry point: the styles, then the app, once the session (round two: from its cookie) is known. */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { render } from "preact";
import { App } from "./app";
import { session } from "./session";

const root = document.getElementById("app");
if (root) {
  void session.restore().finally(() => {
    root.textContent = "";
    render(<App />, root);
  });
}
