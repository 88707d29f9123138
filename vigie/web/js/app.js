// The dashboard's entry point: login, the header, and the page for the location hash.
// Pages: #/carte, #/camera/<id>, #/disponibilite, #/registre, #/plans[/<name>]; /?mur is the
// wall mode.
import * as api from "./api.js";
import * as auth from "./auth.js";
import { el, toast } from "./util.js";
import { renderMap, forgetCommunes } from "./map.js";
import { renderCamera } from "./camera.js";
import { renderAvailability } from "./availability.js";
import { renderPlans } from "./plans.js";
import { renderRegister } from "./register.js";

const main = document.getElementById("main");
const header = document.getElementById("top");
let cleanup = () => {};

const PAGES = {
  carte: ["admin", "engineer", "operator", "gendarmerie", "commune"],
  camera: ["admin", "engineer", "operator", "gendarmerie", "commune"],
  disponibilite: ["admin", "engineer", "operator", "commune"],
  plans: ["admin", "engineer", "amo"],
  registre: ["admin", "engineer", "operator", "gendarmerie", "commune"],
};
const ROLE_LABELS = {
  admin: "administrateur", engineer: "ingénieur", amo: "AMO", operator: "opérateur",
  gendarmerie: "gendarmerie", commune: "commune",
};

function allowed(page) { return (PAGES[page] || []).includes(auth.role()); }
function home() { return allowed("carte") ? "#/carte" : "#/plans"; }

function loginPage() {
  header.hidden = true;
  const user = el("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "login", "aria-label": "Connexion" },
    el("h1", {}, "Vigie — connexion"),
    el("label", { for: "username" }, "Identifiant"), user,
    el("label", { for: "password" }, "Mot de passe"), pass,
    el("button", { type: "submit" }, "Se connecter"), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    try {
      await auth.login(user.value, pass.value);
      auth.setMe(await api.json("/api/v1/auth/me"));
      if (!location.search.includes("mur") && !location.hash) location.hash = home();  // routes
      else route();
    } catch (error) {
      message.textContent = error instanceof TypeError  // fetch failed: no answer at all
        ? "Serveur injoignable : réessayez dans un instant." : error.message;
      pass.value = "";
      pass.focus();
    }
  });
  main.replaceChildren(form);
  user.focus();
}

async function route() {
  cleanup();
  cleanup = () => {};
  main.replaceChildren();
  if (!auth.current()) { loginPage(); return; }
  const wall = new URLSearchParams(location.search).has("mur");
  const [page, ...rest] = (location.hash.replace(/^#\/?/, "") || "").split("/");
  header.hidden = wall;
  const session = auth.current();
  document.getElementById("who").textContent =
    `${session.username} (${ROLE_LABELS[session.role] || session.role})`;
  for (const link of header.querySelectorAll("nav a")) {
    link.hidden = !link.dataset.roles.split(" ").includes(session.role);
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    if (wall && allowed("carte")) cleanup = await renderMap(main, { wall: true });
    else if (!page || !allowed(page)) { location.hash = home(); return; }
    else if (page === "carte") cleanup = await renderMap(main);
    else if (page === "camera") cleanup = await renderCamera(main, decodeURIComponent(rest.join("/")));
    else if (page === "disponibilite") cleanup = await renderAvailability(main);
    else if (page === "registre") cleanup = await renderRegister(main);
    else if (page === "plans") cleanup = await renderPlans(main, rest[0] && decodeURIComponent(rest[0]));
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 401) return;
    if (!(error instanceof api.ApiError)) console.error(error);  // a bug: the message is not for users
    main.append(el("p", { class: "error page" },
      `Page indisponible : ${error instanceof api.ApiError ? error.message : "erreur inattendue"}`));
  }
}

// After a logout the next person starts afresh: the previous user's page (its hash may name a
// camera), live state, name and scoped data (the communes) must not carry over to them.
function forgetUser() {
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  forgetCommunes();
  document.getElementById("live-state").textContent = "";
  document.getElementById("who").textContent = "";
}

document.getElementById("logout").addEventListener("click", () => auth.logout());
auth.onLogout(() => { forgetUser(); toast("Vous êtes déconnecté."); route(); });
window.addEventListener("hashchange", route);
window.addEventListener("load", route);
