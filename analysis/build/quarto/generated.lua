-- Quarto filter: replaces `::: {.generated file="executed/_cover.md"}` by that file's Markdown.
-- The file is written by `barometre build` (Quarto's pre-render `make notebooks`), so it is read
-- when the page is converted, after pre-render — unlike `{{< include >}}`, which Quarto
-- resolves before pre-render runs and which therefore fails on a fresh clone.
function Div(el)
  if not el.classes:includes("generated") then
    return nil
  end
  local path = el.attributes["file"]
  local fh = io.open(path, "r")
  if fh == nil then
    error(path .. " is missing: run `make notebooks` (or `.venv/bin/barometre build --renderer quarto`) first")
  end
  local text = fh:read("a")
  fh:close()
  return pandoc.read(text, "markdown").blocks
end
