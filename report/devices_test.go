package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestDevicesSection(t *testing.T) {
	b := New()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	laptop := DeviceInfo{Name: "GOV-LT-0412", NameSource: "dhcp", MAC: "02:00:00:00:04:12", Department: "Cabinet Office"}
	b.AddFlow(FlowSummary{Groups: []string{"laptops"}, Service: "tiktok", Country: "US", Device: netip.MustParseAddr("10.12.40.87"),
		Bytes: 100, First: t0, Last: t0, DeviceInfo: laptop})
	b.AddFlow(FlowSummary{Country: "GB", Device: netip.MustParseAddr("10.12.40.88"), Bytes: 5, First: t0, Last: t0, DeviceInfo: laptop})
	b.AddFlow(FlowSummary{Country: "GB", Device: netip.MustParseAddr("10.12.40.9"), Bytes: 5, First: t0, Last: t0})
	devs := b.Devices()
	if len(devs) != 2 || devs[0].Name != "GOV-LT-0412" || devs[0].Flows != 2 || strings.Join(devs[0].Addresses, ",") != "10.12.40.87,10.12.40.88" ||
		strings.Join(devs[0].Countries, ",") != "GB,US" || strings.Join(devs[0].Services, ",") != "tiktok" || devs[1].Name != "" {
		t.Fatalf("Devices() = %+v", devs)
	}
	var md bytes.Buffer
	if err := b.Write(&md, "md"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| GOV-LT-0412 (dhcp), Cabinet Office | 02:00:00:00:04:12 | 10.12.40.87, 10.12.40.88 | laptops | tiktok | GB, US | 2 |") {
		t.Errorf("markdown has no devices row:\n%s", md.String())
	}
	var js bytes.Buffer
	if err := b.Write(&js, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"named_devices": 1`) || !strings.Contains(js.String(), `"name": "GOV-LT-0412"`) {
		t.Errorf("json has no devices:\n%s", js.String())
	}
}
