// Two header buttons of pydata-sphinx-theme are named unlike what they show (WCAG 2.5.3,
// axe's label-content-name-mismatch): a voice user who says what they see must reach them.
// - "Search" shows "Search Ctrl+K": name it by its content and declare the shortcut.
// - "Color mode" shows icons whose titles ("Light", "Dark", ...) count as visible text:
//   the icons are decoration, the button's name already says what it does.
function satlessonNameHeaderButtons() {
  for (const button of document.querySelectorAll(".search-button-field")) {
    button.removeAttribute("aria-label");
    button.setAttribute("aria-keyshortcuts", "Control+K");
  }
  // Font Awesome turns each <i title> into an <svg role="img"> with a <title>: undo both,
  // whichever ran first.
  for (const icon of document.querySelectorAll(".theme-switch-button .theme-switch")) {
    for (const name of ["title", "role", "aria-labelledby"]) icon.removeAttribute(name);
    for (const title of icon.querySelectorAll("title")) title.remove();
    icon.setAttribute("aria-hidden", "true");
  }
}
document.addEventListener("DOMContentLoaded", satlessonNameHeaderButtons);
window.addEventListener("load", satlessonNameHeaderButtons);
if (document.readyState !== "loading") satlessonNameHeaderButtons();
