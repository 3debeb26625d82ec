"Tests of the loopback WGA mirror itself: start-up time, formats, fault sequences, hit counts."
import io, time, zipfile
import requests
from image_to_vec.fakewga import FakeWGA, CATALOG_PATH, ARTIST_CGI


def test_starts_fast_and_frees_its_port():
    t = time.perf_counter()
    with FakeWGA() as srv:
        assert time.perf_counter() - t < 1.0
        assert len(srv.rows) == 3 * 20 + 4                               # 60 paintings + the traps
        port = srv.port
        assert requests.get(srv.url('/nope'), timeout=5).status_code == 404
    with FakeWGA(port=port) as again: assert again.port == port        # stopped cleanly: the port is free again


def test_formats():
    with FakeWGA(n_per_style=3, encoding='cp850', delimiter='\t') as srv:
        z = zipfile.ZipFile(io.BytesIO(requests.get(srv.url(CATALOG_PATH), timeout=5).content))
        text = z.read('catalog.csv').decode('cp850')
        assert text.startswith('AUTHOR\tBORN-DIED\tTITLE\tDATE') and 'LÉGER, Fernand' in text
        html = requests.get(srv.url(ARTIST_CGI + '?from=0&max=4&letter=-'), timeout=5).text
        assert html.count('<TD CLASS="ARTISTLIST"><A HREF=') == 4 and 'Page 1 of 4' in html
        img = requests.get(srv.url(srv.image_paths()[0]), timeout=5)
        assert img.headers['Content-Type'] == 'image/jpeg' and img.content[:3] == b'\xff\xd8\xff'


def test_fault_sequences_and_hits():
    with FakeWGA(n_per_style=3) as probe: p = probe.image_paths()
    with FakeWGA(n_per_style=3, faults={p[0]: ['500', '429'], p[1]: 'html', p[2]: ['truncated']}) as srv:
        s = [requests.get(srv.url(p[0]), timeout=5) for _ in range(3)]
        assert [r.status_code for r in s] == [500, 429, 200] and s[1].headers['Retry-After'] == '1'
        assert requests.get(srv.url(p[1]), timeout=5).content.startswith(b'<!DOCTYPE html>')
        half = requests.get(srv.url(p[2]), timeout=5).content
        whole = requests.get(srv.url(p[2]), timeout=5).content           # the fault list is used up: the whole image
        assert whole.startswith(half) and len(half) == len(whole) // 2
        assert srv.hits[p[0]] == 3 and srv.n_hits('/art/') == 6
