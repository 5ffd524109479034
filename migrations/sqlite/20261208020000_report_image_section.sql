-- Reports that cover every section gain the new one, "Images admitted with known
-- vulnerabilities" (its exceptions list follows it by itself). Sections are stored in the order
-- of reports::model::Section::ALL.
UPDATE reports SET sections = REPLACE(sections, 'vuln_web_cms', 'vuln_web_cms,images')
WHERE sections = 'assets,alerts,vuln_linux,vuln_windows,vuln_web_cms,baseline,attacks,score_trend';
