# The generated part of docs/nix.md: the nixpkgs attributes riso defaults to, and the
# options reference, both read from the sources (checks/nixpkgs-attributes.nix, modules/).
#
#   nix eval --raw --impure --expr 'import ./checks/options-doc.nix { lib = import <lib>; }'
#
# `python tests/nix/docgen.py` splices it into docs/nix.md; a test and
# `checks.<system>.docs` fail when the file is out of date.
{ lib }:
let
  eval = lib.evalModules {
    modules = [
      ../modules
      { _module.args.pkgs = { }; }
    ];
  };
  options = builtins.filter (o: o.visible && !o.internal && !lib.hasPrefix "_module." o.name) (
    lib.optionAttrSetToDocList eval.options
  );

  code =
    text:
    if lib.hasInfix "\n" text then
      "\n\n  ```nix\n" + lib.concatMapStrings (l: "  ${l}\n") (lib.splitString "\n" text) + "  ```"
    else
      "`${text}`";
  literal =
    value:
    if value._type or "" == "literalMD" then
      value.text
    else if value._type or "" == "literalExpression" then
      code value.text
    else
      code (lib.generators.toPretty { } value);
  declaredIn =
    decl:
    let
      m = builtins.match ".*/(modules/.*)" (toString decl);
    in
    if m == null then toString decl else builtins.head m;

  renderOption =
    o:
    lib.concatStringsSep "\n" (
      [
        "### `${o.name}`"
        ""
        (lib.trim o.description)
        ""
        "- type: ${o.type}"
      ]
      ++ lib.optional (o ? default) "- default: ${literal o.default}"
      ++ lib.optional (o ? example) "- example: ${literal o.example}"
      ++ lib.optional o.readOnly "- read-only"
      ++ [ "- declared in: ${lib.concatMapStringsSep ", " (d: "`${declaredIn d}`") o.declarations}" ]
    )
    + "\n";

  attributes = import ./nixpkgs-attributes.nix;
  renderAttribute =
    a:
    "| `${a.attr}` | ${lib.concatMapStringsSep "<br>" (f: "`${f}`") a.defines} | ${
      if a.binds == null then "(same file, via pkgs/by-name)" else "`${a.binds}`"
    } | ${a.usedBy} |";
in
lib.concatStringsSep "\n" (
  [
    "## nixpkgs attributes riso defaults to"
    ""
    "| attribute | defined in | attribute bound in | used for |"
    "| --- | --- | --- | --- |"
  ]
  ++ map renderAttribute attributes
  ++ [
    ""
    "## Options reference"
    ""
  ]
  ++ map renderOption options
)
