# make worldmap: regenerate report/html/world.json, the country shapes the HTML report embeds.
#   npm pack world-atlas (Natural Earth 1:110m and 1:50m countries as TopoJSON, ISC licence;
#   Natural Earth is public domain) into out/world-atlas (git-ignored), then
#   report/worldmap_gen.go projects it (Equal Earth) into compact SVG paths keyed by ISO code.
# The result (~50 kB) is committed, so building egresswatch needs neither npm nor the network.

WORLDMAP_PKG ?= world-atlas@2.0.2
WORLDMAP_DIR := $(OUT)/world-atlas

.PHONY: worldmap

worldmap:
	@rm -rf $(WORLDMAP_DIR) && mkdir -p $(WORLDMAP_DIR)
	cd $(WORLDMAP_DIR) && $(NPM) pack --silent $(WORLDMAP_PKG)
	tar -mxzf $(WORLDMAP_DIR)/world-atlas-*.tgz -C $(WORLDMAP_DIR)
	cd report && $(GO) run worldmap_gen.go -atlas ../$(WORLDMAP_DIR)/package -o html/world.json
	cp $(WORLDMAP_DIR)/package/LICENSE report/html/world-atlas.LICENSE
