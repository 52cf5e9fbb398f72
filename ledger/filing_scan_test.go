package ledger

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pumpledger/pumpledger/demo"
	bolt "go.etcd.io/bbolt"
)

// slowFiled is the reference: encoding/json into filed.
func slowFiled(data []byte) (filed, error) {
	var f filed
	err := json.Unmarshal(data, &f)
	return f, err
}

// FuzzScanFiled: wherever the hand scanner answers, encoding/json reads the
// same bytes without error and to the same filing. (Where it does not
// answer, Verify asks encoding/json, so nothing else is needed of it.)
func FuzzScanFiled(f *testing.F) {
	for _, s := range []string{
		`{"seq":3,"id":"6b1f8a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","kind":"refill","recorded_at":"2026-03-31T14:05:00.123456789Z","recorded_by":"jdoe","performed_at":"2026-03-31T14:00:00Z","performed_offset":"-04:00","late":false,"warnings":["RESIDUAL DISCREPANCY: aspirated 5.5 mL \u2014 \"x\""],"payload":{"mrn":"MRN-1","pump_serial":"S1","performed_at":"2026-03-31T10:00:00-04:00","fill_ml":"20","solution":[{"drug":"ziconotide","mcg_per_ml":"7.5"}]}}`,
		`{"seq":0,"id":"x","kind":"patient","payload":{"mrn":"MRN-1","name":"Jane Doe"}}`,
		`{"seq":5,"id":"c","kind":"correction","payload":{"voids":"a","reason":"misread","replacement":"b"}}`,
		`{"seq":1,"payload":{"MRN":"MRN-2","mrn":"MRN-1"}}`,
		`{"seq":1,"seq":2,"payload":{"mrn":"a"},"payload":{"serial":"b"}}`,
		`{"seq":01}`, `{"seq":-0}`, `{"seq":1.0}`, `{"seq":1e2}`, `{"seq":"1"}`,
		`{"seq":1,"x":[1,-0.5e+3,true,false,null,{"a":"\u00e9\n"}]}`,
		`{"seq":1,"x":"\q"}`, `{"seq":1,"x":1.}`, `{"seq":1,"x":.5}`, `{"seq":1,"x":+1}`,
		`{"seq":1,"payload":null}`, `{"seq":1,"payload":[]}`, `{"seq":1} x`, ` {"seq":1} `,
		`{"seq":1,"payload":{"performed_at":"2026-03-31T10:00:00"}}`,
		`{"seq":1,"payload":{"mrn":"M\u0052N"}}`, `{"seq":1,"payload":{"mrn":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := scanFiled(data)
		if !ok {
			return
		}
		slow, err := slowFiled(data)
		if err != nil {
			t.Fatalf("scanFiled read %q, encoding/json refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: scanFiled %+v, encoding/json %+v", data, fast, slow)
		}
	})
}

// Every entry a clinic's ledger holds (the demo's: every kind, corrections,
// admixtures, warnings with quotes and non-ASCII) takes the fast path and
// files as encoding/json would: the fallback is for what pumpledger never
// writes.
func TestScanFiledReadsEveryDemoEntry(t *testing.T) {
	db := demoLedger(t, demo.Options{Patients: 20, Months: 12, Seed: 3})
	kinds := map[Kind]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEntries).ForEach(func(_, v []byte) error {
			fast, ok := scanFiled(v)
			if !ok {
				t.Errorf("scanFiled gave up on an entry pumpledger wrote: %s", v)
				return nil
			}
			slow, err := slowFiled(v)
			if err != nil || !reflect.DeepEqual(fast, slow) {
				t.Errorf("scanFiled %+v, encoding/json %+v (%v)", fast, slow, err)
			}
			kinds[fast.Kind]++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindPatient, KindImplant, KindRefill, KindReprogram, KindCorrection} {
		if kinds[k] == 0 {
			t.Errorf("the demo ledger has no %s entry to read: %v", k, kinds)
		}
	}
}
